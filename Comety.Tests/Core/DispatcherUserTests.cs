using Comety.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Core;

public sealed class DispatcherUserTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly CometyDispatcher _dispatcher;

    public DispatcherUserTests() => _dispatcher = new CometyDispatcher(timeProvider: _clock);

    public void Dispose() => _dispatcher.Dispose();

    [Fact]
    public async Task Registering_an_id_twice_fails_and_names_the_id()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();

        var error = await Assert.ThrowsAsync<DuplicateUserException>(() => _dispatcher.RegisterUserAsync("u1").AsTask());

        Assert.Equal("u1", error.UserId);
        Assert.Contains("'u1'", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, _dispatcher.UserCount);
    }

    [Fact]
    public async Task Every_operation_on_a_users_registration_fails_for_an_unknown_id_and_names_the_id()
    {
        // Not among them: IsRegistered asks; PostToUserAsync and ReportErrorAsync go on without
        // the user (an event for a user who just left is appended and reaches nobody).
        var calls = new Func<Task>[]
        {
            () => _dispatcher.PollAsync("ghost", 0, TimeSpan.Zero).AsTask(),
            () => Task.Run(() => _dispatcher.GetNetworkDelayEstimator("ghost")),
            () => _dispatcher.SubscribeAsync("ghost", "room").AsTask(),
            () => _dispatcher.UnsubscribeAsync("ghost", "room").AsTask(),
            () => _dispatcher.UnregisterUserAsync("ghost").AsTask(),
            () => _dispatcher.ReceiveMessageAsync("ghost", default).AsTask(),
            () => Task.Run(() => _dispatcher.StartHeartbeat("ghost", TimeSpan.Zero)),
            () => Task.Run(() => _dispatcher.StopHeartbeat("ghost")),
            () => Task.Run(() => _dispatcher.GetChannels("ghost")),
        };

        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<UnknownUserException>(call);
            Assert.Equal("ghost", error.UserId);
            Assert.Contains("'ghost'", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_empty_user_id_is_rejected()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _dispatcher.RegisterUserAsync("").AsTask());
        Assert.Equal(0, _dispatcher.UserCount);
    }

    [Fact]
    public async Task An_event_posted_while_no_user_is_registered_gets_no_number_and_is_dropped()
    {
        var sequence = await _dispatcher.BroadcastAsync("test", Args("lost")).Bounded();
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        var result = await _dispatcher.PollAsync("u1", 0, TimeSpan.Zero).Bounded();

        Assert.Null(sequence);
        Assert.Equal(0, _dispatcher.LastSequence);
        Assert.Null(result.Events);
        Assert.Equal(0, result.LastId);
    }

    [Fact]
    public async Task A_user_registered_after_an_event_never_sees_it()
    {
        await _dispatcher.RegisterUserAsync("early").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("before")).Bounded();
        await _dispatcher.RegisterUserAsync("late").Bounded();
        var after = await _dispatcher.BroadcastAsync("test", Args("after")).Bounded();

        var late = await _dispatcher.PollAsync("late", 0, TimeSpan.Zero).Bounded();
        var early = await _dispatcher.PollAsync("early", 0, TimeSpan.Zero).Bounded();

        Assert.Equal(["after"], late.Types());
        Assert.Equal([after!.Value], late.Sequences());
        Assert.Equal(["before", "after"], early.Types());
    }

    [Fact]
    public async Task A_register_user_notification_reaches_every_user_the_new_one_included()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        await _dispatcher.RegisterUserAsync("u2", notify: true).Bounded();

        foreach (var user in new[] { "u1", "u2" })
        {
            var result = await _dispatcher.PollAsync(user, 0, TimeSpan.Zero).Bounded();
            var e = Assert.Single(result.Events!);
            Assert.Equal("register-user", e.Type);
            Assert.Equal("u2", e.Args["userId"]);
            Assert.Equal(CometyDispatcher.SenderName, e.Sender);
        }
    }

    [Fact]
    public async Task An_unregister_user_notification_reaches_the_others_only()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        await _dispatcher.RegisterUserAsync("u2").Bounded();

        await _dispatcher.UnregisterUserAsync("u2", notify: true).Bounded();

        var result = await _dispatcher.PollAsync("u1", 0, TimeSpan.Zero).Bounded();
        var e = Assert.Single(result.Events!);
        Assert.Equal("unregister-user", e.Type);
        Assert.Equal("u2", e.Args["userId"]);
        Assert.False(_dispatcher.IsRegistered("u2"));
        Assert.Equal(1, _dispatcher.UserCount);
    }

    [Fact]
    public async Task Notifications_are_off_by_default()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        await _dispatcher.RegisterUserAsync("u2").Bounded();
        await _dispatcher.UnregisterUserAsync("u2").Bounded();

        var result = await _dispatcher.PollAsync("u1", 0, TimeSpan.Zero).Bounded();

        Assert.Null(result.Events);
        Assert.Equal(0, _dispatcher.LastSequence);
    }

    [Fact]
    public async Task Unregistering_ends_a_waiting_poll_with_an_unknown_user_error()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        var poll = _dispatcher.PollAsync("u1", 0, TimeSpan.FromMinutes(1)).AsTask();

        await _dispatcher.UnregisterUserAsync("u1").Bounded();

        var error = await Assert.ThrowsAsync<UnknownUserException>(() => poll.Bounded());
        Assert.Equal("u1", error.UserId);
    }

    [Fact]
    public async Task A_user_can_register_again_after_leaving_and_starts_after_the_events_it_missed()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        await _dispatcher.RegisterUserAsync("u2").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("seen")).Bounded();
        await _dispatcher.UnregisterUserAsync("u1").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("missed")).Bounded();

        await _dispatcher.RegisterUserAsync("u1").Bounded();
        var result = await _dispatcher.PollAsync("u1", 0, TimeSpan.Zero).Bounded();

        Assert.Null(result.Events);
        Assert.Equal(2, result.LastId);
    }
}
