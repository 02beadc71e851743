using System.Net;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Http;

/// <summary>Two pages of one user over the wire: each polls from its own position, whatever the other confirms.</summary>
public sealed class PagePositionTests
{
    [Fact]
    public async Task Two_pages_of_one_user_each_get_every_event_once_in_order_while_one_is_not_polling()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();

        // One browser, one cookie, two tabs: two positions.
        using var browser = host.CreateClient("ann");
        var positions = new Dictionary<string, long> { ["tab1"] = 0, ["tab2"] = 0 };
        var seen = new Dictionary<string, List<long>> { ["tab1"] = [], ["tab2"] = [] };

        async Task PollAsync(string tab)
        {
            var answer = await browser.PollOkAsync($"timeout=0&confirm={positions[tab]}");
            seen[tab].AddRange(answer.Sequences);
            positions[tab] = answer.LastId;
        }

        await host.Dispatcher.BroadcastAsync("Chat", Args("line")).Bounded();
        await PollAsync("tab1");
        await PollAsync("tab2");

        // Tab 2's poll is not waiting (a lost response, a throttled tab) while tab 1 consumes three lines.
        for (var i = 0; i < 3; i++)
        {
            await host.Dispatcher.BroadcastAsync("Chat", Args("line")).Bounded();
            await PollAsync("tab1");
        }

        await PollAsync("tab2");
        await host.Dispatcher.BroadcastAsync("Chat", Args("line")).Bounded();
        await PollAsync("tab2");
        await PollAsync("tab1");

        Assert.Equal([1L, 2, 3, 4, 5], seen["tab1"]);
        Assert.Equal([1L, 2, 3, 4, 5], seen["tab2"]);
    }

    [Fact]
    public async Task A_page_whose_response_was_lost_gets_the_same_events_again_from_its_position()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await host.Dispatcher.BroadcastAsync("Chat", Args("one")).Bounded();

        var lost = await client.PollOkAsync("timeout=0&confirm=0");
        var retried = await client.PollOkAsync("timeout=0&confirm=0");
        var after = await client.PollOkAsync($"timeout=0&confirm={retried.LastId}");

        Assert.Equal([1L], lost.Sequences);
        Assert.Equal([1L], retried.Sequences);
        Assert.Null(after.Events);
    }

    [Fact]
    public async Task A_page_away_longer_than_what_is_kept_gets_409_and_the_page_that_stayed_goes_on()
    {
        var clock = new FakeTimeProvider();
        await using var host = await TestHost.StartAsync(new TestHostOptions { TimeProvider = clock, HeartbeatTimeout = TimeSpan.FromSeconds(15) }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await host.Dispatcher.BroadcastAsync("Chat", Args("line")).Bounded();
        var away = await client.PollOkAsync("timeout=0&confirm=0");

        // The other tab polls on for more than two heartbeat timeouts; the first never comes back until then.
        var stayed = away;
        for (var i = 0; i < 4; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(10));
            await host.Dispatcher.BroadcastAsync("Chat", Args("line")).Bounded();
            stayed = await client.PollOkAsync($"timeout=0&confirm={stayed.LastId}");
            Assert.Single(stayed.Events!);
        }

        using var back = await client.PollAsync($"timeout=0&confirm={away.LastId}").Bounded();

        var problem = await back.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains($"position {away.LastId}", problem.Detail(), StringComparison.Ordinal);
        Assert.Null((await client.PollOkAsync($"timeout=0&confirm={stayed.LastId}")).Events);
    }
}
