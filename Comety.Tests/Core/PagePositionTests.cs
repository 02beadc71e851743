using Microsoft.Extensions.Time.Testing;
using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Core;

/// <summary>What the inbox keeps for a user's pages: every page that polled lately, and every poll that waits however long.</summary>
public sealed class PagePositionTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly Dispatcher _dispatcher;

    public PagePositionTests() => _dispatcher = new Dispatcher(timeProvider: _clock);

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
    public async Task A_page_that_polls_again_within_the_heartbeat_timeout_never_loses_an_event_to_another()
    {
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        _dispatcher.StopHeartbeat("ann");
        long slow = 0, fast = 0;
        var seenBySlow = new List<long>();

        // The slow page polls every 14 s (just under the heartbeat timeout), the fast one every second.
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

        Assert.Equal(Enumerable.Range(1, 56).Select(static i => (long)i), seenBySlow);
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
}
