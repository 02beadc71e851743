using System.Text.Json;
using Comety.Tests.Infrastructure;
using Microsoft.Playwright;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Browser;

[Collection(BrowserSuite.Name)]
[Trait("Category", "Browser")]
public sealed class ResilienceTests(BrowserFixture browser)
{
    [Fact]
    public async Task After_an_outage_the_page_resumes_and_receives_what_was_posted_meanwhile_once_each_in_order()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);
        // Polls: each is a new request that the outage refuses (StreamingTests cuts a stream).
        await page.OpenAsync("ann", more: PollOnly);
        var before = await host.Dispatcher.BroadcastAsync("server", Args("before")).Bounded();
        await page.WaitForReceivedAsync(1);

        var refused = 0;
        await page.Page.RouteAsync(BrowserPage.UpdatesGlob, route =>
        {
            Interlocked.Increment(ref refused);
            return route.AbortAsync();
        }).Bounded();
        // The poll under way when the outage began still reaches the server; once one is refused, none does.
        await BrowserWait.UntilAsync(() => Volatile.Read(ref refused) >= 1, "a poll to be refused");
        var during = new List<long?>();
        for (var i = 0; i < 3; i++)
        {
            during.Add(await host.Dispatcher.BroadcastAsync("server", Args("during", ("i", i))).Bounded());
        }

        // A few seconds of retries, more and more slowly (the test page retries after 250 ms, doubling up to 1 s).
        await BrowserWait.UntilAsync(() => Volatile.Read(ref refused) >= 5, "five polls to be refused");
        Assert.Single(await page.ReceivedAsync());
        await page.Page.UnrouteAsync(BrowserPage.UpdatesGlob).Bounded();

        await page.WaitForReceivedAsync(1 + during.Count);
        var after = await host.Dispatcher.BroadcastAsync("server", Args("after")).Bounded();
        await page.WaitForReceivedAsync(2 + during.Count);

        var received = await page.ReceivedAsync();
        Assert.Equal([before, .. during, after], received.Select(e => (long?)e.Sequence));
        Assert.Equal([0, 1, 2], received.Where(e => e.Type == "during").Select(e => e.Args.GetProperty("i").GetInt32()));
        var errors = await page.ErrorStatusesAsync();
        Assert.True(errors.Count >= 5, $"The error handler ran {errors.Count} times.");
        Assert.All(errors, status => Assert.Equal(0, status));
        Assert.True(await page.IsRunningAsync());
    }

    [Fact]
    public async Task A_poll_answered_but_lost_on_the_way_brings_the_same_events_again_and_nothing_is_lost_or_repeated()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);
        string? lostUrl = null;
        string? lostBody = null;
        var lostOne = 0;
        await page.Page.RouteAsync(BrowserPage.UpdatesGlob, async route =>
        {
            if (route.Request.Method != "GET" || Volatile.Read(ref lostOne) != 0)
            {
                await route.ContinueAsync();
                return;
            }

            // The server answers; the browser never sees the answer.
            var response = await route.FetchAsync(new RouteFetchOptions { Timeout = BrowserPage.Timeout });
            var body = await response.TextAsync();
            if (EventsOf(body).Count > 0 && Interlocked.Exchange(ref lostOne, 1) == 0)
            {
                lostUrl = route.Request.Url;
                lostBody = body;
                await route.AbortAsync();
            }
            else
            {
                await route.FulfillAsync(new RouteFulfillOptions { Response = response });
            }
        }).Bounded();
        // A poll's answer is one JSON body that the route can hold back whole.
        await page.OpenAsync("ann", more: PollOnly);

        long?[] posted =
        [
            await host.Dispatcher.BroadcastAsync("server", Args("first")).Bounded(),
            await host.Dispatcher.BroadcastAsync("server", Args("second")).Bounded(),
        ];
        await page.WaitForReceivedAsync(posted.Length);

        Assert.NotNull(lostUrl);
        var lostEvents = EventsOf(lostBody!);
        Assert.Equal(posted.Take(lostEvents.Count), lostEvents.Select(s => (long?)s));
        var polls = page.Polls;
        var lost = polls.Select((poll, index) => (poll, index)).Single(p => p.poll.Url == lostUrl).index;
        Assert.True(lost + 1 < polls.Count, "No poll followed the lost one.");
        Assert.Equal(BrowserPage.ConfirmOf(polls[lost]), BrowserPage.ConfirmOf(polls[lost + 1]));
        Assert.Equal(posted, (await page.ReceivedAsync()).Select(e => (long?)e.Sequence));
        Assert.Equal([0], await page.ErrorStatusesAsync());
    }

    private static readonly Dictionary<string, string?> PollOnly = new() { ["transport"] = "poll" };

    private static List<long> EventsOf(string pollResponse)
    {
        using var document = JsonDocument.Parse(pollResponse);
        var events = document.RootElement.GetProperty("events");
        return events.ValueKind == JsonValueKind.Array ? [.. events.EnumerateArray().Select(e => e[2].GetInt64())] : [];
    }
}
