using System.Collections.Concurrent;
using System.Text.Json;
using Comety.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Core;

public sealed class LifecycleTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly ListLogger<CometyDispatcher> _logger = new();
    private readonly CometyDispatcher _dispatcher;
    private readonly ConcurrentQueue<string> _seen = new();

    public LifecycleTests() =>
        _dispatcher = new CometyDispatcher(new DispatcherOptions { HeartbeatTimeout = TimeSpan.FromSeconds(15) }, timeProvider: _clock, logger: _logger);

    public void Dispose() => _dispatcher.Dispose();

    [Fact]
    public async Task Connected_handlers_run_when_a_user_registers_and_take_no_pattern()
    {
        Record(LifecycleEvent.Connected, "connected");

        await _dispatcher.RegisterUserAsync("u1").Bounded();

        Assert.Equal(["connected u1"], _seen);
        Assert.Throws<ArgumentException>(() => _dispatcher.On(LifecycleEvent.Connected, _ => default, "room"));
    }

    [Fact]
    public async Task Subscribe_and_unsubscribe_handlers_match_the_channel_joined_or_left()
    {
        Record(LifecycleEvent.Subscribed, "sub-any");
        Record(LifecycleEvent.Subscribed, "sub-room", "^room-");
        Record(LifecycleEvent.Unsubscribed, "unsub-room", "^room-");
        await _dispatcher.RegisterUserAsync("u1").Bounded();

        await _dispatcher.SubscribeAsync("u1", "room-1").Bounded();
        await _dispatcher.SubscribeAsync("u1", "lobby").Bounded();
        await _dispatcher.UnsubscribeAsync("u1", "lobby").Bounded();
        await _dispatcher.UnsubscribeAsync("u1", "room-1").Bounded();

        Assert.Equal(["sub-any u1 room-1", "sub-room u1 room-1", "sub-any u1 lobby", "unsub-room u1 room-1"], _seen);
    }

    [Fact]
    public async Task Message_handlers_match_the_user_channels_and_patternless_ones_run_only_for_users_without_channels()
    {
        Record(LifecycleEvent.Message, "plain");
        Record(LifecycleEvent.Message, "rooms", "^room-");
        await _dispatcher.RegisterUserAsync("loner").Bounded();
        await _dispatcher.RegisterUserAsync("member").Bounded();
        await _dispatcher.RegisterUserAsync("elsewhere").Bounded();
        await _dispatcher.SubscribeAsync("member", "room-1").Bounded();
        await _dispatcher.SubscribeAsync("elsewhere", "lobby").Bounded();
        var data = JsonDocument.Parse("""{"text":"hi"}""").RootElement;

        await _dispatcher.ReceiveMessageAsync("loner", data).Bounded();
        await _dispatcher.ReceiveMessageAsync("member", data).Bounded();
        await _dispatcher.ReceiveMessageAsync("elsewhere", data).Bounded();

        Assert.Equal(["plain loner", "rooms member"], _seen);
    }

    [Fact]
    public async Task A_message_sent_to_a_channel_is_matched_against_that_channel_and_carries_its_data()
    {
        JsonElement? received = null;
        _dispatcher.On(LifecycleEvent.Message, context =>
        {
            received = context.Data;
            _seen.Enqueue($"room {context.Channel}");
            return default;
        }, "^room-");
        Record(LifecycleEvent.Message, "plain");
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        await _dispatcher.SubscribeAsync("u1", "room-9").Bounded();
        await _dispatcher.SubscribeAsync("u1", "lobby").Bounded();

        await _dispatcher.ReceiveMessageAsync("u1", JsonDocument.Parse("42").RootElement, "room-9").Bounded();
        await _dispatcher.ReceiveMessageAsync("u1", JsonDocument.Parse("43").RootElement, "lobby").Bounded();

        Assert.Equal(["room room-9"], _seen);
        Assert.Equal(42, received!.Value.GetInt32());
    }

    [Fact]
    public async Task Leaving_raises_an_unsubscribe_per_channel_then_finish_and_only_then_drops_the_subscriptions()
    {
        _dispatcher.On(LifecycleEvent.Unsubscribed, context =>
        {
            _seen.Enqueue($"unsubscribed {context.Channel} still in [{string.Join(",", _dispatcher.GetChannels(context.UserId!).Order())}]");
            return default;
        });
        _dispatcher.On(LifecycleEvent.Finished, context =>
        {
            _seen.Enqueue($"finished still in [{string.Join(",", _dispatcher.GetChannels(context.UserId!).Order())}]");
            return default;
        }, "^room-");
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        await _dispatcher.SubscribeAsync("u1", "room-a").Bounded();
        await _dispatcher.SubscribeAsync("u1", "room-b").Bounded();

        await _dispatcher.UnregisterUserAsync("u1").Bounded();

        Assert.Equal(
            ["room-a", "room-b"],
            _seen.Take(2).Select(s => s.Split(' ')[1]).Order());
        Assert.All(_seen.Take(2), s => Assert.EndsWith("still in [room-a,room-b]", s, StringComparison.Ordinal));
        Assert.Equal("finished still in [room-a,room-b]", _seen.Last());
        Assert.Equal(3, _seen.Count);
        Assert.Empty(_dispatcher.GetSubscribers("room-a"));
        Assert.False(_dispatcher.IsRegistered("u1"));
    }

    [Fact]
    public async Task A_throwing_handler_is_logged_raises_Error_and_breaks_nothing()
    {
        var failure = new InvalidOperationException("handler bug");
        _dispatcher.On(LifecycleEvent.Subscribed, _ => throw failure);
        Record(LifecycleEvent.Subscribed, "second");
        Exception? reported = null;
        _dispatcher.On(LifecycleEvent.Error, context =>
        {
            reported = context.Exception;
            return default;
        }, "^room$");
        await _dispatcher.RegisterUserAsync("u1").Bounded();

        await _dispatcher.SubscribeAsync("u1", "room").Bounded();
        await _dispatcher.PostToChannelAsync("room", "test", Args("still works")).Bounded();

        Assert.Same(failure, reported);
        Assert.Equal(["second u1 room"], _seen);
        Assert.Equal(["still works"], (await _dispatcher.PollAsync("u1", 0, TimeSpan.Zero).Bounded()).Types());
        var logged = Assert.Single(_logger.Entries, entry => entry.EventName == "HandlerFailed");
        Assert.Equal(LogLevel.Error, logged.Level);
        Assert.Same(failure, logged.Exception);
        Assert.Contains("'u1'", logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_throwing_Error_handler_is_only_logged()
    {
        _dispatcher.On(LifecycleEvent.Connected, _ => throw new InvalidOperationException("first"));
        _dispatcher.On(LifecycleEvent.Error, _ => throw new InvalidOperationException("second"));

        await _dispatcher.RegisterUserAsync("u1").Bounded();

        Assert.True(_dispatcher.IsRegistered("u1"));
        Assert.Single(_logger.Entries, entry => entry.EventName == "HandlerFailed");
        Assert.Single(_logger.Entries, entry => entry.EventName == "ErrorHandlerFailed");
    }

    [Fact]
    public async Task ReportError_logs_and_raises_Error_for_the_user()
    {
        var failure = new FormatException("bad request");
        Exception? reported = null;
        _dispatcher.On(LifecycleEvent.Error, context =>
        {
            reported = context.Exception;
            _seen.Enqueue($"error {context.UserId}");
            return default;
        });
        await _dispatcher.RegisterUserAsync("u1").Bounded();

        await _dispatcher.ReportErrorAsync("u1", failure).Bounded();

        Assert.Same(failure, reported);
        Assert.Equal(["error u1"], _seen);
        Assert.Single(_logger.Entries, entry => entry.EventName == "RequestFailed" && entry.Level == LogLevel.Error);
    }

    [Fact]
    public async Task An_unbound_handler_no_longer_runs()
    {
        var binding = Record(LifecycleEvent.Connected, "connected");
        await _dispatcher.RegisterUserAsync("u1").Bounded();

        binding.Dispose();
        await _dispatcher.RegisterUserAsync("u2").Bounded();

        Assert.Equal(["connected u1"], _seen);
    }

    [Fact]
    public async Task A_heartbeat_timeout_raises_Disconnected_then_Finished_and_unregisters_the_user()
    {
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Record(LifecycleEvent.Disconnected, "disconnected");
        _dispatcher.On(LifecycleEvent.Finished, context =>
        {
            _seen.Enqueue($"finished {context.UserId}");
            finished.TrySetResult();
            return default;
        });
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        _dispatcher.StartHeartbeat("u1", TimeSpan.FromSeconds(1));

        _clock.Advance(TimeSpan.FromSeconds(15.9));
        Assert.Empty(_seen);
        _clock.Advance(TimeSpan.FromSeconds(0.1));
        await finished.Task.Bounded();

        Assert.Equal(["disconnected u1", "finished u1"], _seen);
        Assert.False(_dispatcher.IsRegistered("u1"));
    }

    [Fact]
    public async Task A_user_that_times_out_in_channels_is_unsubscribed_from_each_before_Finished()
    {
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Record(LifecycleEvent.Disconnected, "disconnected", "^room-");
        Record(LifecycleEvent.Unsubscribed, "left", "^room-");
        _dispatcher.On(LifecycleEvent.Finished, context =>
        {
            _seen.Enqueue($"finished {context.UserId} [{string.Join(",", context.MatchedChannels)}]");
            finished.TrySetResult();
            return default;
        }, "^room-");
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        await _dispatcher.SubscribeAsync("u1", "room-a").Bounded();
        await _dispatcher.SubscribeAsync("u1", "room-b").Bounded();
        _dispatcher.StartHeartbeat("u1", TimeSpan.Zero);

        _clock.Advance(TimeSpan.FromSeconds(15));
        await finished.Task.Bounded();

        Assert.Equal(4, _seen.Count);
        Assert.Equal("disconnected u1", _seen.First());
        Assert.Equal(["left u1 room-a", "left u1 room-b"], _seen.Skip(1).Take(2).Order());
        Assert.Equal("finished u1 [room-a,room-b]", _seen.Last());
        Assert.False(_dispatcher.IsRegistered("u1"));
    }

    [Fact]
    public async Task A_Disconnected_handler_can_keep_the_user_registered()
    {
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _dispatcher.On(LifecycleEvent.Disconnected, context =>
        {
            context.KeepRegistered = true;
            disconnected.TrySetResult();
            return default;
        });
        Record(LifecycleEvent.Finished, "finished");
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        _dispatcher.StartHeartbeat("u1", TimeSpan.Zero);

        _clock.Advance(TimeSpan.FromSeconds(15));
        await disconnected.Task.Bounded();
        await WaitUntilAsync(() => _dispatcher.Timer.HeapSize > 0);

        Assert.True(_dispatcher.IsRegistered("u1"));
        Assert.Empty(_seen);
    }

    [Fact]
    public async Task A_user_whose_heartbeat_is_stopped_or_restarted_in_time_stays()
    {
        Record(LifecycleEvent.Disconnected, "disconnected");
        await _dispatcher.RegisterUserAsync("u1").Bounded();

        _dispatcher.StartHeartbeat("u1", TimeSpan.Zero);
        _clock.Advance(TimeSpan.FromSeconds(14));
        _dispatcher.StartHeartbeat("u1", TimeSpan.Zero);
        _clock.Advance(TimeSpan.FromSeconds(14));
        _dispatcher.StopHeartbeat("u1");
        _clock.Advance(TimeSpan.FromMinutes(10));

        Assert.Empty(_seen);
        Assert.True(_dispatcher.IsRegistered("u1"));
    }

    [Fact]
    public async Task A_heartbeat_does_not_run_while_another_poll_of_the_user_is_waiting()
    {
        var finished = SignalOnFinished();
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        _dispatcher.StopHeartbeat("u1");
        var longPoll = _dispatcher.PollAsync("u1", 0, TimeSpan.FromHours(1)).AsTask();
        await _dispatcher.PollAsync("u1", 0, TimeSpan.Zero).Bounded();

        // A second tab's poll ended while the first one still waits.
        _dispatcher.StartHeartbeat("u1", TimeSpan.Zero);
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.True(_dispatcher.IsRegistered("u1"));
        await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        await longPoll.Bounded();
        _dispatcher.StartHeartbeat("u1", TimeSpan.Zero);
        _clock.Advance(TimeSpan.FromSeconds(15));

        await finished.Task.Bounded();
        Assert.False(_dispatcher.IsRegistered("u1"));
    }

    [Fact]
    public async Task A_heartbeat_runs_again_after_a_poll_that_was_cancelled_or_whose_filter_threw()
    {
        var finished = SignalOnFinished();
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        _dispatcher.StopHeartbeat("u1");
        using var abort = new CancellationTokenSource();
        var cancelled = _dispatcher.PollAsync("u1", 0, TimeSpan.FromHours(1), cancellationToken: abort.Token).AsTask();
        abort.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.Bounded());
        await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            _dispatcher.PollAsync("u1", 0, TimeSpan.Zero, _ => throw new InvalidOperationException("filter bug")).AsTask());

        _dispatcher.StartHeartbeat("u1", TimeSpan.Zero);
        _clock.Advance(TimeSpan.FromSeconds(15));

        await finished.Task.Bounded();
        Assert.False(_dispatcher.IsRegistered("u1"));
    }

    [Fact]
    public async Task A_user_that_never_polls_times_out_after_six_heartbeat_timeouts()
    {
        var finished = SignalOnFinished();
        await _dispatcher.RegisterUserAsync("u1").Bounded();

        _clock.Advance(TimeSpan.FromSeconds(89));
        Assert.True(_dispatcher.IsRegistered("u1"));
        _clock.Advance(TimeSpan.FromSeconds(1));

        await finished.Task.Bounded();
        Assert.False(_dispatcher.IsRegistered("u1"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_timed_out_user_is_announced_only_when_configured(bool notify)
    {
        using var dispatcher = new CometyDispatcher(new DispatcherOptions { NotifyOnTimeout = notify }, timeProvider: _clock);
        await dispatcher.RegisterUserAsync("stays").Bounded();
        await dispatcher.RegisterUserAsync("goes").Bounded();
        var poll = dispatcher.PollAsync("stays", 0, TimeSpan.FromHours(1)).AsTask();
        dispatcher.StopHeartbeat("stays");

        var gone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var finished = dispatcher.On(LifecycleEvent.Finished, _ =>
        {
            gone.TrySetResult();
            return default;
        });

        dispatcher.StartHeartbeat("goes", TimeSpan.Zero);
        _clock.Advance(TimeSpan.FromSeconds(15));
        await gone.Task.Bounded();

        // Finished runs before the announcement is posted: a broadcast after it comes later in the one order.
        var marker = await dispatcher.BroadcastAsync("test", Args("after")).Bounded();
        await Http.Infrastructure.CometyHttp.WaitUntilAsync(() => !dispatcher.IsRegistered("goes") && dispatcher.LastSequence >= marker, "the user to be gone");
        var result = await poll.Bounded();
        var types = (await dispatcher.PollAsync("stays", 0, TimeSpan.Zero).Bounded()).Types().ToArray();

        Assert.NotNull(result.Events);
        Assert.Equal(notify, types.Contains("unregister-user"));
        Assert.Contains("after", types);
        Assert.DoesNotContain(types, t => t == "register-user");
    }

    // Completes when a Finished handler runs: heartbeat timeouts handle users on the thread pool.
    private TaskCompletionSource SignalOnFinished()
    {
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _dispatcher.On(LifecycleEvent.Finished, _ =>
        {
            finished.TrySetResult();
            return default;
        });
        return finished;
    }

    private IDisposable Record(LifecycleEvent lifecycleEvent, string label, string? pattern = null) =>
        _dispatcher.On(lifecycleEvent, context =>
        {
            _seen.Enqueue(context.Channel is null ? $"{label} {context.UserId}" : $"{label} {context.UserId} {context.Channel}");
            return default;
        }, pattern);

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Bound);
        while (!condition())
        {
            await Task.Yield();
            timeout.Token.ThrowIfCancellationRequested();
        }
    }
}
