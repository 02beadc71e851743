using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Core;

public sealed class DispatcherPollTests : IDisposable
{
    private readonly ManualTimeProvider _clock = new();
    private Dispatcher _dispatcher;

    public DispatcherPollTests() => _dispatcher = new Dispatcher(timeProvider: _clock);

    public void Dispose() => _dispatcher.Dispose();

    private Task WaitUntilWaitingAsync(int polls) =>
        Http.Infrastructure.CometyHttp.WaitUntilAsync(() => _dispatcher.WaitingPollCount == polls, $"{polls} poll(s) wait");

    [Fact]
    public async Task A_poll_returns_at_once_with_the_unconfirmed_events_in_order()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        for (var i = 1; i <= 3; i++)
        {
            await _dispatcher.BroadcastAsync("test", Args("e", ("n", i))).Bounded();
        }

        var result = await _dispatcher.PollAsync("u1", TimeSpan.FromMinutes(5)).Bounded();

        Assert.Equal([1L, 2, 3], result.Sequences());
        Assert.Equal([1, 2, 3], result.Events!.Select(e => (int)e.Args["n"]!));
        Assert.Equal(3, result.LastId);
        Assert.False(result.MustResynchronize);
    }

    [Fact]
    public async Task A_users_polls_reuse_one_deadline_on_the_timer()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        var first = _dispatcher.PollAsync("u1", TimeSpan.FromSeconds(30)).AsTask();
        await WaitUntilWaitingAsync(1);
        var slots = _dispatcher.Timer.HeapSize;
        await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        var result = await first.Bounded();

        // Each poll confirms the last, waits, and is answered by an event: none adds a slot.
        for (var i = 0; i < 50; i++)
        {
            _dispatcher.StopHeartbeat("u1");
            await _dispatcher.ConfirmAsync("u1", result.LastId).Bounded();
            var poll = _dispatcher.PollAsync("u1", TimeSpan.FromSeconds(30)).AsTask();
            await WaitUntilWaitingAsync(1);
            await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
            result = await poll.Bounded();
            _dispatcher.StartHeartbeat("u1", TimeSpan.Zero);
            Assert.Single(result.Events!);
        }

        Assert.True(_dispatcher.Timer.HeapSize <= slots + 1, $"the heap grew from {slots} to {_dispatcher.Timer.HeapSize} slots");

        // And the reused deadline still ends a poll that nothing answers, at its time.
        await _dispatcher.ConfirmAsync("u1", result.LastId).Bounded();
        var idle = _dispatcher.PollAsync("u1", TimeSpan.FromSeconds(30)).AsTask();
        await WaitUntilWaitingAsync(1);
        _clock.Advance(TimeSpan.FromSeconds(29.999));
        Assert.False(idle.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Null((await idle.Bounded()).Events);
    }

    [Fact]
    public async Task Two_polls_of_one_user_each_end_at_their_own_deadline()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        var shorter = _dispatcher.PollAsync("u1", TimeSpan.FromSeconds(10)).AsTask();
        await WaitUntilWaitingAsync(1);
        var longer = _dispatcher.PollAsync("u1", TimeSpan.FromSeconds(20)).AsTask();
        await WaitUntilWaitingAsync(2);

        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Null((await shorter.Bounded()).Events);
        Assert.False(longer.IsCompleted);
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Null((await longer.Bounded()).Events);
    }

    [Fact]
    public async Task A_poll_returns_events_posted_while_it_waits()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        var poll = _dispatcher.PollAsync("u1", TimeSpan.FromMinutes(5)).AsTask();
        Assert.False(poll.IsCompleted);

        await _dispatcher.BroadcastAsync("test", Args("wake")).Bounded();
        var result = await poll.Bounded();

        Assert.Equal(["wake"], result.Types());
        Assert.Equal(1, result.LastId);
    }

    [Fact]
    public async Task A_poll_with_a_zero_timeout_only_looks()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();

        var poll = _dispatcher.PollAsync("u1", TimeSpan.Zero).AsTask();

        Assert.True(poll.IsCompletedSuccessfully);
        Assert.Null((await poll).Events);
    }

    [Fact]
    public async Task A_poll_ends_without_events_when_its_timeout_passes_on_the_clock()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        var poll = _dispatcher.PollAsync("u1", TimeSpan.FromSeconds(30)).AsTask();

        _clock.Advance(TimeSpan.FromSeconds(29));
        Assert.False(poll.IsCompleted);
        _clock.Advance(TimeSpan.FromSeconds(1));
        var result = await poll.Bounded();

        Assert.Null(result.Events);
        Assert.Equal(0, result.LastId);
    }

    [Fact]
    public async Task A_cancelled_poll_ends_with_OperationCanceledException_and_loses_nothing()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        using var abort = new CancellationTokenSource();
        var poll = _dispatcher.PollAsync("u1", TimeSpan.FromMinutes(5), cancellationToken: abort.Token).AsTask();

        abort.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => poll.Bounded());
        await _dispatcher.BroadcastAsync("test", Args("after")).Bounded();
        var next = await _dispatcher.PollAsync("u1", TimeSpan.Zero).Bounded();

        Assert.Equal(["after"], next.Types());
    }

    [Fact]
    public async Task Polling_removes_nothing_events_leave_only_through_confirm()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("a")).Bounded();
        await _dispatcher.BroadcastAsync("test", Args("b")).Bounded();

        var first = await _dispatcher.PollAsync("u1", TimeSpan.Zero).Bounded();
        var again = await _dispatcher.PollAsync("u1", TimeSpan.Zero).Bounded();
        await _dispatcher.ConfirmAsync("u1", 1).Bounded();
        var afterConfirm = await _dispatcher.PollAsync("u1", TimeSpan.Zero).Bounded();

        Assert.Equal([1L, 2], first.Sequences());
        Assert.Equal([1L, 2], again.Sequences());
        Assert.Equal([2L], afterConfirm.Sequences());
    }

    [Fact]
    public async Task Confirm_is_idempotent_and_never_moves_the_window_back()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        for (var i = 0; i < 3; i++)
        {
            await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        }

        await _dispatcher.ConfirmAsync("u1", 2).Bounded();
        await _dispatcher.ConfirmAsync("u1", 2).Bounded();
        await _dispatcher.ConfirmAsync("u1", 1).Bounded();
        var result = await _dispatcher.PollAsync("u1", TimeSpan.Zero).Bounded();

        Assert.Equal([3L], result.Sequences());
    }

    [Fact]
    public async Task Confirm_rejects_numbers_beyond_the_last_issued_and_negative_ones()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();

        var beyond = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _dispatcher.ConfirmAsync("u1", 2).AsTask());
        var negative = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _dispatcher.ConfirmAsync("u1", -1).AsTask());
        var result = await _dispatcher.PollAsync("u1", TimeSpan.Zero).Bounded();

        Assert.Contains("last sequence number issued, 1", beyond.Message, StringComparison.Ordinal);
        Assert.Equal("sequence", negative.ParamName);
        Assert.Equal([1L], result.Sequences());
    }

    [Fact]
    public async Task ConfirmAll_confirms_everything_issued_and_returns_its_number()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("a")).Bounded();
        await _dispatcher.BroadcastAsync("test", Args("b")).Bounded();

        var confirmed = await _dispatcher.ConfirmAllAsync("u1").Bounded();
        var result = await _dispatcher.PollAsync("u1", TimeSpan.Zero).Bounded();

        Assert.Equal(2, confirmed);
        Assert.Null(result.Events);
        Assert.Equal(2, result.LastId);
    }

    [Fact]
    public async Task LastId_accounts_for_events_the_user_may_not_see()
    {
        await _dispatcher.RegisterUserAsync("reader").Bounded();
        await _dispatcher.RegisterUserAsync("other").Bounded();
        await _dispatcher.SubscribeAsync("other", "elsewhere").Bounded();
        await _dispatcher.PostToChannelAsync("elsewhere", "test", Args("hidden")).Bounded();
        await _dispatcher.BroadcastAsync("test", Args("shown")).Bounded();
        await _dispatcher.PostToChannelAsync("elsewhere", "test", Args("hidden")).Bounded();

        var withEvents = await _dispatcher.PollAsync("reader", TimeSpan.Zero).Bounded();
        await _dispatcher.ConfirmAsync("reader", withEvents.LastId).Bounded();
        var without = await _dispatcher.PollAsync("reader", TimeSpan.Zero).Bounded();

        Assert.Equal([2L], withEvents.Sequences());
        Assert.Equal(3, withEvents.LastId);
        Assert.Null(without.Events);
        Assert.Equal(3, without.LastId);
    }

    [Fact]
    public async Task Events_every_user_confirmed_are_purged_and_unconfirmed_ones_are_kept()
    {
        var log = new InMemoryEventLog();
        _dispatcher.Dispose();
        _dispatcher = new Dispatcher(log: log, timeProvider: _clock);
        await _dispatcher.RegisterUserAsync("fast").Bounded();
        await _dispatcher.RegisterUserAsync("slow").Bounded();
        for (var i = 0; i < 4; i++)
        {
            await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        }

        await _dispatcher.ConfirmAsync("fast", 4).Bounded();
        Assert.Equal(4, log.Count);
        await _dispatcher.ConfirmAsync("slow", 2).Bounded();
        Assert.Equal(2, log.Count);
        Assert.Equal(2, _dispatcher.RetainedEventCount);
        var slow = await _dispatcher.PollAsync("slow", TimeSpan.Zero).Bounded();
        Assert.Equal([3L, 4], slow.Sequences());

        await _dispatcher.ConfirmAsync("slow", 4).Bounded();
        Assert.Equal(0, log.Count);
        Assert.Equal(0, _dispatcher.RetainedEventCount);
    }

    [Fact]
    public async Task An_event_for_nobody_is_purged_at_once()
    {
        var log = new InMemoryEventLog();
        _dispatcher.Dispose();
        _dispatcher = new Dispatcher(log: log, timeProvider: _clock);
        await _dispatcher.RegisterUserAsync("u1").Bounded();

        var sequence = await _dispatcher.PostToChannelAsync("empty-room", "test", Args("e")).Bounded();

        Assert.Equal(1, sequence);
        Assert.Equal(0, log.Count);
    }

    [Fact]
    public async Task A_user_beyond_its_backlog_must_resynchronise_until_it_confirms_past_the_loss()
    {
        _dispatcher.Dispose();
        _dispatcher = new Dispatcher(new DispatcherOptions { MaxBacklog = 3 }, timeProvider: _clock);
        await _dispatcher.RegisterUserAsync("slow").Bounded();
        await _dispatcher.RegisterUserAsync("fast").Bounded();
        for (var i = 0; i < 5; i++)
        {
            await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        }

        var slow = await _dispatcher.PollAsync("slow", TimeSpan.FromMinutes(1)).Bounded();
        Assert.True(slow.MustResynchronize);
        Assert.Null(slow.Events);

        // An old page's confirmation does not bring it back; a fresh page's does.
        await _dispatcher.ConfirmAsync("slow", 3).Bounded();
        Assert.True((await _dispatcher.PollAsync("slow", TimeSpan.Zero).Bounded()).MustResynchronize);
        var renderedAt = await _dispatcher.ConfirmAllAsync("slow").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("fresh")).Bounded();
        var back = await _dispatcher.PollAsync("slow", TimeSpan.Zero).Bounded();

        Assert.Equal(5, renderedAt);
        Assert.False(back.MustResynchronize);
        Assert.Equal([6L], back.Sequences());
    }

    [Fact]
    public async Task A_waiting_poll_learns_at_once_that_its_user_overflowed()
    {
        _dispatcher.Dispose();
        _dispatcher = new Dispatcher(new DispatcherOptions { MaxBacklog = 1 }, timeProvider: _clock);
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        await _dispatcher.PollAsync("u1", TimeSpan.Zero).Bounded();

        await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        var result = await _dispatcher.PollAsync("u1", TimeSpan.FromMinutes(1)).Bounded();

        Assert.True(result.MustResynchronize);
    }

    [Fact]
    public async Task A_user_that_polls_but_never_confirms_cannot_grow_the_log_without_bound()
    {
        var log = new InMemoryEventLog();
        _dispatcher.Dispose();
        _dispatcher = new Dispatcher(new DispatcherOptions { MaxBacklog = 5, MaxRetainedEvents = 10 }, log, _clock);
        await _dispatcher.RegisterUserAsync("stuck").Bounded();
        await _dispatcher.RegisterUserAsync("busy").Bounded();
        await _dispatcher.SubscribeAsync("stuck", "quiet").Bounded();
        await _dispatcher.SubscribeAsync("busy", "loud").Bounded();
        await _dispatcher.PostToChannelAsync("quiet", "test", Args("once")).Bounded();

        for (var i = 0; i < 30; i++)
        {
            var sequence = await _dispatcher.PostToChannelAsync("loud", "test", Args("e")).Bounded();
            await _dispatcher.ConfirmAsync("busy", sequence!.Value).Bounded();
            Assert.True(log.Count <= 11, $"the log holds {log.Count} events");
        }

        Assert.True((await _dispatcher.PollAsync("stuck", TimeSpan.Zero).Bounded()).MustResynchronize);
        Assert.False((await _dispatcher.PollAsync("busy", TimeSpan.Zero).Bounded()).MustResynchronize);
    }

    [Fact]
    public async Task Disposing_the_dispatcher_ends_waiting_polls_without_events()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        var poll = _dispatcher.PollAsync("u1", TimeSpan.FromMinutes(5)).AsTask();

        _dispatcher.Dispose();
        var result = await poll.Bounded();

        Assert.Null(result.Events);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => _dispatcher.PollAsync("u1", TimeSpan.Zero).AsTask());
    }

    [Fact]
    public async Task A_negative_timeout_is_rejected()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _dispatcher.PollAsync("u1", TimeSpan.FromSeconds(-1)).AsTask());
    }

    [Fact]
    public async Task An_event_can_be_posted_only_once()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        var e = new CometyEvent("test", Args("once"));
        await _dispatcher.PostAsync(e).Bounded();

        await Assert.ThrowsAsync<InvalidOperationException>(() => _dispatcher.PostAsync(e).AsTask());
        Assert.Equal(1, _dispatcher.LastSequence);
    }

    [Fact]
    public void An_event_needs_a_type()
    {
        var error = Assert.Throws<ArgumentException>(() => new CometyEvent("test", new Dictionary<string, object?> { ["text"] = "hi" }));

        Assert.Contains("'event'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_options_are_rejected_with_their_name()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Dispatcher(new DispatcherOptions { MaxBacklog = 0 }));

        Assert.Equal(nameof(DispatcherOptions.MaxBacklog), error.ParamName);
    }
}
