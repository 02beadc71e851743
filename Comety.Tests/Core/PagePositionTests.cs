using Microsoft.Extensions.Time.Testing;
using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Core;

/// <summary>What the inbox keeps for a user's pages: every page that polled lately, and every poll that waits however long.</summary>
public sealed class PagePositionTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly CometyDispatcher _dispatcher;

    public PagePositionTests() => _dispatcher = new CometyDispatcher(timeProvider: _clock);

    public void Dispose() => _dispatcher.Dispose();

    [Fact]
    public async Task A_poll_that_waits_longer_than_the_retention_keeps_its_place_while_another_page_moves_on()
    {
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        _dispatcher.StopHeartbeat("ann");
        var waiting = _dispatcher.PollAsync("ann", 0, TimeSpan.FromMinutes(10), filter: e => e.Type == "for-the-waiting-page").AsTask();
        await Http.Infrastructure.CometyHttp.WaitUntilAsync(() => _dispatcher.WaitingPollCount == 1, "the poll waits");

        // Another page of the user handles an event per heartbeat timeout, for four of them.
        for (var i = 0; i < 4; i++)
        {
            _clock.Advance(_dispatcher.Options.HeartbeatTimeout);
            var sequence = await _dispatcher.BroadcastAsync("test", Args("other")).Bounded();
            await _dispatcher.PollAsync("ann", sequence, TimeSpan.Zero).Bounded();
        }

        await _dispatcher.BroadcastAsync("test", Args("for-the-waiting-page")).Bounded();
        var result = await waiting.Bounded();

        Assert.False(result.MustResynchronize);
        Assert.Equal(["for-the-waiting-page"], result.Types());
    }

    [Fact]
    public async Task What_a_stream_wrote_stays_for_the_retention_windows_so_a_cut_stream_resumes_from_what_its_client_received()
    {
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        _dispatcher.StopHeartbeat("ann");
        var one = await _dispatcher.BroadcastAsync("test", Args("one")).Bounded();
        var two = await _dispatcher.BroadcastAsync("test", Args("two")).Bounded();

        // The stream opens from 0 and writes both; its next read continues from the second,
        // which its client never received: the connection was cut with it in flight.
        var opened = await _dispatcher.PollAsync("ann", 0, TimeSpan.Zero).Bounded();
        var continued = await _dispatcher.ContinueStreamAsync("ann", opened.LastId, TimeSpan.Zero).Bounded();
        var resumed = await _dispatcher.PollAsync("ann", one, TimeSpan.Zero).Bounded();

        Assert.Equal([one!.Value, two!.Value], opened.Sequences());
        Assert.Null(continued.Events);
        Assert.False(resumed.MustResynchronize);
        Assert.Equal([two.Value], resumed.Sequences());
    }

    [Fact]
    public async Task A_stream_keeps_what_it_wrote_for_the_retention_windows_only_while_a_poll_lets_go_at_once()
    {
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        _dispatcher.StopHeartbeat("ann");
        var one = await _dispatcher.BroadcastAsync("test", Args("one")).Bounded();
        var opened = await _dispatcher.PollAsync("ann", 0, TimeSpan.Zero).Bounded();
        await _dispatcher.ContinueStreamAsync("ann", opened.LastId, TimeSpan.Zero).Bounded();

        // Two heartbeat timeouts and more, the stream reading on: the stream's own reads are all that
        // states a position, and the first event is let go once no window holds a position before it.
        for (var i = 0; i < 3; i++)
        {
            _clock.Advance(_dispatcher.Options.HeartbeatTimeout);
            await _dispatcher.ContinueStreamAsync("ann", opened.LastId, TimeSpan.Zero).Bounded();
        }

        var late = await _dispatcher.PollAsync("ann", 0, TimeSpan.Zero).Bounded();

        Assert.Equal([one!.Value], opened.Sequences());
        Assert.True(late.MustResynchronize);
    }

    [Fact]
    public async Task A_page_that_polls_again_within_the_heartbeat_timeout_never_loses_an_event_to_another()
    {
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        _dispatcher.StopHeartbeat("ann");
        long slow = 0, fast = 0;
        var seenBySlow = new List<long>();

        // Both pages open after a first event; the slow one polls then and every 14 s (just under
        // the heartbeat timeout), the fast one every second.
        await _dispatcher.BroadcastAsync("test", Args("tick")).Bounded();
        var first = await _dispatcher.PollAsync("ann", slow, TimeSpan.Zero).Bounded();
        seenBySlow.AddRange(first.Sequences());
        slow = first.LastId;
        for (var second = 1; second <= 60; second++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            await _dispatcher.BroadcastAsync("test", Args("tick")).Bounded();
            fast = (await _dispatcher.PollAsync("ann", fast, TimeSpan.Zero).Bounded()).LastId;
            if (second % 14 == 0)
            {
                var answer = await _dispatcher.PollAsync("ann", slow, TimeSpan.Zero).Bounded();
                Assert.False(answer.MustResynchronize, $"the slow page had to resynchronise at {second} s");
                seenBySlow.AddRange(answer.Sequences());
                slow = answer.LastId;
            }
        }

        Assert.Equal(Enumerable.Range(1, 57).Select(static i => (long)i), seenBySlow);
    }

    [Fact]
    public async Task StopPolling_ends_waiting_polls_answers_later_ones_at_once_and_leaves_posting_working()
    {
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        var waiting = _dispatcher.PollAsync("ann", 0, TimeSpan.FromMinutes(5)).AsTask();
        await Http.Infrastructure.CometyHttp.WaitUntilAsync(() => _dispatcher.WaitingPollCount == 1, "the poll waits");

        _dispatcher.StopPolling();
        var ended = await waiting.Bounded();
        var later = _dispatcher.PollAsync("ann", 0, TimeSpan.FromMinutes(5)).AsTask();
        var posted = await _dispatcher.BroadcastAsync("test", Args("while-stopping")).Bounded();

        Assert.Null(ended.Events);
        Assert.True(later.IsCompleted);
        Assert.Null((await later.Bounded()).Events);
        Assert.Equal(["while-stopping"], (await _dispatcher.PollAsync("ann", 0, TimeSpan.FromMinutes(5)).Bounded()).Types());
        Assert.Equal(1, posted);
    }

    [Fact]
    public async Task A_page_polling_alone_leaves_nothing_it_handled_in_the_inbox_unless_a_page_was_rendered_lately()
    {
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        _dispatcher.StopHeartbeat("ann");
        long position = 0;
        async Task HandleAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
                position = (await _dispatcher.PollAsync("ann", position, TimeSpan.Zero).Bounded()).LastId;
            }
        }

        await HandleAsync(500);
        var alone = _dispatcher.RetainedEventCount;

        // A page rendered now (for this user or another: the dispatcher does not know) keeps the
        // events after its position for one to two ticks of a third of the heartbeat timeout.
        _dispatcher.NotePageRendered(_dispatcher.LastSequence);
        await HandleAsync(10);
        var whileRendered = _dispatcher.RetainedEventCount;
        _clock.Advance(_dispatcher.Options.HeartbeatTimeout * 2 / 3);
        await HandleAsync(1);

        // Only the event the page was last handed, which its next poll confirms.
        Assert.Equal(1, alone);
        Assert.Equal(10, whileRendered);
        Assert.Equal(1, _dispatcher.RetainedEventCount);
    }

    [Fact]
    public async Task A_page_opened_while_another_polls_alone_gets_what_was_posted_before_its_first_poll()
    {
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        _dispatcher.StopHeartbeat("ann");
        var first = await _dispatcher.PollAsync("ann", 0, TimeSpan.Zero).Bounded();
        var renderedAt = _dispatcher.LastSequence;
        _dispatcher.NotePageRendered(renderedAt);   // as <comety-script> does

        // The first page handles three events before the new page's first poll.
        var position = first.LastId;
        var posted = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            posted.Add((await _dispatcher.BroadcastAsync("test", Args("e")).Bounded())!.Value);
            position = (await _dispatcher.PollAsync("ann", position, TimeSpan.Zero).Bounded()).LastId;
        }

        var opened = await _dispatcher.PollAsync("ann", renderedAt, TimeSpan.Zero).Bounded();

        Assert.False(opened.MustResynchronize);
        Assert.Equal(posted, opened.Sequences());
    }

    [Fact]
    public async Task Two_waiting_polls_of_one_user_keep_its_events_for_the_heartbeat_timeout()
    {
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        _dispatcher.StopHeartbeat("ann");
        var tab1 = _dispatcher.PollAsync("ann", 0, TimeSpan.FromMinutes(1)).AsTask();
        var tab2 = _dispatcher.PollAsync("ann", 0, TimeSpan.FromMinutes(1)).AsTask();
        await Http.Infrastructure.CometyHttp.WaitUntilAsync(() => _dispatcher.WaitingPollCount == 2, "both tabs wait");
        var posted = await _dispatcher.BroadcastAsync("test", Args("e")).Bounded();
        var answer = await tab1.Bounded();
        await tab2.Bounded();

        // Tab 1 goes on; tab 2 stops for a while, then asks from where it was.
        _clock.Advance(TimeSpan.FromSeconds(11));
        await _dispatcher.PollAsync("ann", answer.LastId, TimeSpan.Zero).Bounded();
        var back = await _dispatcher.PollAsync("ann", 0, TimeSpan.Zero).Bounded();

        Assert.False(back.MustResynchronize);
        Assert.Equal([posted!.Value], back.Sequences());
    }
}
