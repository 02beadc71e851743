using Microsoft.Extensions.Time.Testing;
using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Core;

public sealed class DispatcherPollTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private CometyDispatcher _dispatcher;

    public DispatcherPollTests() => _dispatcher = new CometyDispatcher(timeProvider: _clock);

    public void Dispose() => _dispatcher.Dispose();

    private Task WaitUntilWaitingAsync(int polls) =>
        Http.Infrastructure.CometyHttp.WaitUntilAsync(() => _dispatcher.WaitingPollCount == polls, $"{polls} poll(s) wait");

    [Fact]
    public async Task A_poll_returns_at_once_with_the_events_after_its_position_in_order()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        for (var i = 1; i <= 3; i++)
        {
            await _dispatcher.BroadcastAsync("test", Args("e", ("n", i))).Bounded();
        }

        var all = await _dispatcher.PollAsync("u1", 0, TimeSpan.FromMinutes(5)).Bounded();
        var afterOne = await _dispatcher.PollAsync("u1", 1, TimeSpan.FromMinutes(5)).Bounded();

        Assert.Equal([1L, 2, 3], all.Sequences());
        Assert.Equal([1, 2, 3], all.Events!.Select(e => (int)e.Args["n"]!));
        Assert.Equal(3, all.LastId);
        Assert.False(all.MustResynchronize);
        Assert.Equal([2L, 3], afterOne.Sequences());
    }

    [Fact]
    public async Task Two_pages_of_one_user_each_get_every_event_once_in_order_while_one_pauses()
    {
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        var seen = new Dictionary<string, List<long>> { ["tab1"] = [], ["tab2"] = [] };
        var positions = new Dictionary<string, long> { ["tab1"] = 0, ["tab2"] = 0 };

        async Task PollAsync(string tab)
        {
            var result = await _dispatcher.PollAsync("ann", positions[tab], TimeSpan.Zero).Bounded();
            seen[tab].AddRange(result.Sequences());
            positions[tab] = result.LastId;
        }

        await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        await PollAsync("tab1");
        await PollAsync("tab2");

        // Tab 2 stops for a while (a lost response, a throttled tab); tab 1 goes on and confirms.
        for (var i = 0; i < 3; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(2));
            await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
            await PollAsync("tab1");
        }

        await PollAsync("tab2");
        await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        await PollAsync("tab1");
        await PollAsync("tab2");

        Assert.Equal([1L, 2, 3, 4, 5], seen["tab1"]);
        Assert.Equal([1L, 2, 3, 4, 5], seen["tab2"]);
    }

    [Fact]
    public async Task A_poll_without_a_position_gets_every_event_the_inbox_holds()
    {
        await _dispatcher.BroadcastAsync("test", Args("before anyone")).Bounded();
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("a")).Bounded();
        await _dispatcher.BroadcastAsync("test", Args("b")).Bounded();

        var result = await _dispatcher.PollAsync("u1", null, TimeSpan.Zero).Bounded();

        Assert.Equal(["a", "b"], result.Types());
        Assert.False(result.MustResynchronize);
    }

    [Fact]
    public async Task A_users_polls_reuse_one_deadline_on_the_timer()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        var first = _dispatcher.PollAsync("u1", 0, TimeSpan.FromSeconds(30)).AsTask();
        await WaitUntilWaitingAsync(1);
        var slots = _dispatcher.Timer.HeapSize;
        await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        var result = await first.Bounded();

        // Each poll confirms the last, waits, and is answered by an event: none adds a slot.
        for (var i = 0; i < 50; i++)
        {
            _dispatcher.StopHeartbeat("u1");
            var poll = _dispatcher.PollAsync("u1", result.LastId, TimeSpan.FromSeconds(30)).AsTask();
            await WaitUntilWaitingAsync(1);
            await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
            result = await poll.Bounded();
            _dispatcher.StartHeartbeat("u1", TimeSpan.Zero);
            Assert.Single(result.Events!);
        }

        Assert.True(_dispatcher.Timer.HeapSize <= slots + 1, $"the heap grew from {slots} to {_dispatcher.Timer.HeapSize} slots");

        // And the reused deadline still ends a poll that nothing answers, at its time. The poll
        // stops the heartbeat first, as the controller does: a 15 s heartbeat left running would
        // time the user out during the 30 s the clock moves.
        _dispatcher.StopHeartbeat("u1");
        var idle = _dispatcher.PollAsync("u1", result.LastId, TimeSpan.FromSeconds(30)).AsTask();
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
        var shorter = _dispatcher.PollAsync("u1", 0, TimeSpan.FromSeconds(10)).AsTask();
        await WaitUntilWaitingAsync(1);
        var longer = _dispatcher.PollAsync("u1", 0, TimeSpan.FromSeconds(20)).AsTask();
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
        var poll = _dispatcher.PollAsync("u1", 0, TimeSpan.FromMinutes(5)).AsTask();
        Assert.False(poll.IsCompleted);

        await _dispatcher.BroadcastAsync("test", Args("wake")).Bounded();
        var result = await poll.Bounded();

        Assert.Equal(["wake"], result.Types());
        Assert.Equal(1, result.LastId);
    }

    [Fact]
    public async Task A_waiting_poll_is_not_woken_by_events_up_to_its_position()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("seen")).Bounded();
        var poll = _dispatcher.PollAsync("u1", 1, TimeSpan.FromMinutes(5)).AsTask();
        await WaitUntilWaitingAsync(1);

        await _dispatcher.BroadcastAsync("test", Args("new")).Bounded();
        var result = await poll.Bounded();

        Assert.Equal(["new"], result.Types());
    }

    [Fact]
    public async Task A_poll_with_a_zero_timeout_only_looks()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();

        var poll = _dispatcher.PollAsync("u1", 0, TimeSpan.Zero).AsTask();

        Assert.True(poll.IsCompletedSuccessfully);
        Assert.Null((await poll).Events);
    }

    [Fact]
    public async Task A_poll_ends_without_events_when_its_timeout_passes_on_the_clock()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        var poll = _dispatcher.PollAsync("u1", 0, TimeSpan.FromSeconds(30)).AsTask();

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
        var poll = _dispatcher.PollAsync("u1", 0, TimeSpan.FromMinutes(5), cancellationToken: abort.Token).AsTask();

        abort.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => poll.Bounded());
        await _dispatcher.BroadcastAsync("test", Args("after")).Bounded();
        var next = await _dispatcher.PollAsync("u1", 0, TimeSpan.Zero).Bounded();

        Assert.Equal(["after"], next.Types());
    }

    [Fact]
    public async Task Polling_removes_nothing_a_page_asking_again_from_the_same_position_gets_the_same_events()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("a")).Bounded();
        await _dispatcher.BroadcastAsync("test", Args("b")).Bounded();

        var first = await _dispatcher.PollAsync("u1", 0, TimeSpan.Zero).Bounded();
        var again = await _dispatcher.PollAsync("u1", 0, TimeSpan.Zero).Bounded();
        var later = await _dispatcher.PollAsync("u1", 1, TimeSpan.Zero).Bounded();
        var older = await _dispatcher.PollAsync("u1", 0, TimeSpan.Zero).Bounded();

        Assert.Equal([1L, 2], first.Sequences());
        Assert.Equal([1L, 2], again.Sequences());
        Assert.Equal([2L], later.Sequences());
        Assert.Equal([1L, 2], older.Sequences());
    }

    [Fact]
    public async Task A_position_beyond_the_last_issued_or_negative_is_rejected()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();

        var beyond = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _dispatcher.PollAsync("u1", 2, TimeSpan.Zero).AsTask());
        var negative = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _dispatcher.PollAsync("u1", -1, TimeSpan.Zero).AsTask());
        var result = await _dispatcher.PollAsync("u1", 0, TimeSpan.Zero).Bounded();

        Assert.Contains("last sequence number issued, 1", beyond.Message, StringComparison.Ordinal);
        Assert.Equal("position", negative.ParamName);
        Assert.Equal([1L], result.Sequences());
    }

    [Fact]
    public async Task LastSequence_read_at_render_is_a_position_that_gets_only_later_events()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("a")).Bounded();
        await _dispatcher.BroadcastAsync("test", Args("b")).Bounded();

        var renderedAt = _dispatcher.LastSequence;
        var quiet = await _dispatcher.PollAsync("u1", renderedAt, TimeSpan.Zero).Bounded();
        await _dispatcher.BroadcastAsync("test", Args("c")).Bounded();
        var later = await _dispatcher.PollAsync("u1", renderedAt, TimeSpan.Zero).Bounded();

        Assert.Equal(2, renderedAt);
        Assert.Null(quiet.Events);
        Assert.Equal(2, quiet.LastId);
        Assert.Equal(["c"], later.Types());
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

        var withEvents = await _dispatcher.PollAsync("reader", 0, TimeSpan.Zero).Bounded();
        var without = await _dispatcher.PollAsync("reader", withEvents.LastId, TimeSpan.Zero).Bounded();

        Assert.Equal([2L], withEvents.Sequences());
        Assert.Equal(3, withEvents.LastId);
        Assert.Null(without.Events);
        Assert.Equal(3, without.LastId);
    }

    [Fact]
    public async Task Events_stay_while_a_page_that_polled_lately_has_not_handled_them()
    {
        var log = new InMemoryEventLog();
        _dispatcher.Dispose();
        _dispatcher = new CometyDispatcher(log: log, timeProvider: _clock);
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        for (var i = 0; i < 4; i++)
        {
            await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        }

        // Two pages: the fast one has handled everything, the slow one, rendered at 2 (as
        // <comety-script> notes), last stated position 2.
        _dispatcher.NotePageRendered(2);
        await _dispatcher.PollAsync("ann", 4, TimeSpan.Zero).Bounded();
        await _dispatcher.PollAsync("ann", 2, TimeSpan.Zero).Bounded();
        for (var i = 0; i < 5; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(2));
            await _dispatcher.PollAsync("ann", 4, TimeSpan.Zero).Bounded();
        }

        Assert.Equal(2, _dispatcher.RetainedEventCount);
        var slow = await _dispatcher.PollAsync("ann", 2, TimeSpan.Zero).Bounded();

        Assert.Equal([3L, 4], slow.Sequences());
    }

    [Fact]
    public async Task Events_every_recent_page_handled_are_purged_so_pages_that_never_come_back_cost_nothing()
    {
        var log = new InMemoryEventLog();
        _dispatcher.Dispose();
        _dispatcher = new CometyDispatcher(log: log, timeProvider: _clock);
        await _dispatcher.RegisterUserAsync("ann").Bounded();

        // A hundred pages, all rendered before the first event, poll once each and are never seen again.
        for (var page = 0; page < 100; page++)
        {
            await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
            await _dispatcher.PollAsync("ann", 0, TimeSpan.Zero).Bounded();
        }

        Assert.Equal(100, log.Count);

        // One page goes on polling; past two heartbeat timeouts nothing is kept for the others.
        var last = _dispatcher.LastSequence;
        for (var i = 0; i < 3; i++)
        {
            _clock.Advance(_dispatcher.Options.HeartbeatTimeout);
            await _dispatcher.PollAsync("ann", last, TimeSpan.Zero).Bounded();
        }

        Assert.Equal(0, log.Count);
        Assert.Equal(0, _dispatcher.RetainedEventCount);
        Assert.True((await _dispatcher.PollAsync("ann", 50, TimeSpan.Zero).Bounded()).MustResynchronize);
    }

    [Fact]
    public async Task An_event_for_nobody_is_purged_at_once()
    {
        var log = new InMemoryEventLog();
        _dispatcher.Dispose();
        _dispatcher = new CometyDispatcher(log: log, timeProvider: _clock);
        await _dispatcher.RegisterUserAsync("u1").Bounded();

        var sequence = await _dispatcher.PostToChannelAsync("empty-room", "test", Args("e")).Bounded();

        Assert.Equal(1, sequence);
        Assert.Equal(0, log.Count);
    }

    [Fact]
    public async Task A_page_beyond_the_backlog_must_resynchronise_while_a_page_that_kept_up_goes_on()
    {
        _dispatcher.Dispose();
        _dispatcher = new CometyDispatcher(new DispatcherOptions { MaxBacklog = 3 }, timeProvider: _clock);
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        var slowPosition = 1L;
        var fast = await _dispatcher.PollAsync("ann", slowPosition, TimeSpan.Zero).Bounded();
        for (var i = 0; i < 4; i++)
        {
            await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
            fast = await _dispatcher.PollAsync("ann", fast.LastId, TimeSpan.Zero).Bounded();
            Assert.Single(fast.Events!);
        }

        var slow = await _dispatcher.PollAsync("ann", slowPosition, TimeSpan.FromMinutes(1)).Bounded();
        var fresh = await _dispatcher.PollAsync("ann", _dispatcher.LastSequence, TimeSpan.Zero).Bounded();

        Assert.True(slow.MustResynchronize);
        Assert.Null(slow.Events);
        Assert.False(fresh.MustResynchronize);
        Assert.Null(fresh.Events);
    }

    [Fact]
    public async Task A_page_exactly_a_backlog_behind_is_answered_normally()
    {
        _dispatcher.Dispose();
        _dispatcher = new CometyDispatcher(new DispatcherOptions { MaxBacklog = 3 }, timeProvider: _clock);
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        for (var i = 0; i < 3; i++)
        {
            await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        }

        var result = await _dispatcher.PollAsync("ann", 0, TimeSpan.Zero).Bounded();

        Assert.False(result.MustResynchronize);
        Assert.Equal([1L, 2, 3], result.Sequences());
    }

    [Fact]
    public async Task A_waiting_poll_learns_at_once_that_its_page_fell_behind()
    {
        _dispatcher.Dispose();
        _dispatcher = new CometyDispatcher(new DispatcherOptions { MaxBacklog = 1 }, timeProvider: _clock);
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        var poll = _dispatcher.PollAsync("u1", 0, TimeSpan.FromMinutes(1), filter: e => e.Sequence > 1).AsTask();
        await WaitUntilWaitingAsync(1);

        await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        var result = await poll.Bounded();

        Assert.True(result.MustResynchronize);
    }

    [Fact]
    public async Task A_position_taken_before_the_user_was_registered_again_must_resynchronise()
    {
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        await _dispatcher.RegisterUserAsync("bob").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        var oldPage = _dispatcher.LastSequence;
        await _dispatcher.UnregisterUserAsync("ann").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("while away")).Bounded();
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        var newPage = _dispatcher.LastSequence;

        var stale = await _dispatcher.PollAsync("ann", oldPage, TimeSpan.Zero).Bounded();
        var fresh = await _dispatcher.PollAsync("ann", newPage, TimeSpan.Zero).Bounded();
        var fromScratch = await _dispatcher.PollAsync("ann", 0, TimeSpan.Zero).Bounded();

        Assert.True(stale.MustResynchronize);
        Assert.False(fresh.MustResynchronize);
        Assert.False(fromScratch.MustResynchronize);
    }

    [Fact]
    public async Task A_page_that_never_moves_its_position_cannot_grow_the_log_without_bound()
    {
        var log = new InMemoryEventLog();
        _dispatcher.Dispose();
        _dispatcher = new CometyDispatcher(new DispatcherOptions { MaxBacklog = 5, MaxRetainedEvents = 10 }, log, _clock);
        await _dispatcher.RegisterUserAsync("stuck").Bounded();
        await _dispatcher.RegisterUserAsync("busy").Bounded();
        await _dispatcher.SubscribeAsync("stuck", "quiet").Bounded();
        await _dispatcher.SubscribeAsync("busy", "loud").Bounded();
        await _dispatcher.PostToChannelAsync("quiet", "test", Args("once")).Bounded();
        await _dispatcher.PollAsync("stuck", 0, TimeSpan.Zero).Bounded();

        for (var i = 0; i < 30; i++)
        {
            var sequence = await _dispatcher.PostToChannelAsync("loud", "test", Args("e")).Bounded();
            await _dispatcher.PollAsync("busy", sequence!.Value, TimeSpan.Zero).Bounded();
            Assert.True(log.Count <= 11, $"the log holds {log.Count} events");
        }

        Assert.True((await _dispatcher.PollAsync("stuck", 0, TimeSpan.Zero).Bounded()).MustResynchronize);
        Assert.False((await _dispatcher.PollAsync("busy", _dispatcher.LastSequence, TimeSpan.Zero).Bounded()).MustResynchronize);
    }

    [Fact]
    public async Task Disposing_the_dispatcher_ends_waiting_polls_without_events()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        var poll = _dispatcher.PollAsync("u1", 0, TimeSpan.FromMinutes(5)).AsTask();

        _dispatcher.Dispose();
        var result = await poll.Bounded();

        Assert.Null(result.Events);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => _dispatcher.PollAsync("u1", 0, TimeSpan.Zero).AsTask());
    }

    [Fact]
    public async Task A_negative_timeout_is_rejected()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _dispatcher.PollAsync("u1", 0, TimeSpan.FromSeconds(-1)).AsTask());
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
    public void Every_invalid_dispatcher_setting_is_reported_naming_it()
    {
        var problems = new DispatcherOptions { MaxBacklog = 0, MaxPollsPerUser = 0, HeartbeatTimeout = TimeSpan.Zero }.FindProblems();

        Assert.Equal([nameof(DispatcherOptions.MaxBacklog), nameof(DispatcherOptions.MaxPollsPerUser), nameof(DispatcherOptions.HeartbeatTimeout)], problems.Select(p => p.Setting));
        Assert.All(problems, p => Assert.StartsWith(p.Setting + " must be", p.Problem, StringComparison.Ordinal));
        Assert.Empty(new DispatcherOptions().FindProblems());
    }

    [Fact]
    public void Invalid_options_are_rejected_with_their_name()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new CometyDispatcher(new DispatcherOptions { MaxBacklog = 0 }));

        Assert.Equal(nameof(DispatcherOptions.MaxBacklog), error.ParamName);
    }
}
