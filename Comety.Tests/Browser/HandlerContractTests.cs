using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Browser;

/// <summary>
/// The handler's contract in comety.js: it returns how many events it consumed; the position moves
/// over those only, the rest come again, and 0 (or a throw) stops the loop.
/// </summary>
[Collection(BrowserSuite.Name)]
[Trait("Category", "Browser")]
public sealed class HandlerContractTests(BrowserFixture browser)
{
    [Theory]
    [InlineData("poll")]
    [InlineData("stream")]
    public async Task A_handler_that_consumes_fewer_gets_the_rest_again_and_the_poll_or_stream_confirms_only_what_it_consumed(string transport)
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann", more: Transport(transport));
        await page.EvaluateAsync<bool>("() => { comety.stopUpdates(); window.batches = []; window.consume = events => { window.batches.push(events.map(e => e[2])); return 1; }; return true; }");
        var posted = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            posted.Add((await host.Dispatcher.BroadcastAsync("server", Args("e")).Bounded())!.Value);
        }

        var pollsBefore = page.Polls.Count;
        await page.EvaluateAsync<bool>("() => { comety.startUpdates(); return true; }");
        await page.WaitForReceivedAsync(3);

        var batches = await page.EvaluateAsync<long[][]>("() => window.batches");
        Assert.Equal([posted.ToArray(), posted[1..].ToArray(), posted[2..].ToArray()], batches);
        Assert.Equal(posted, (await page.ReceivedAsync()).Select(e => e.Sequence));
        var polls = page.Polls.Skip(pollsBefore).Take(3).ToArray();
        Assert.Equal([posted[0] - 1, posted[0], posted[1]], polls.Select(BrowserPage.ConfirmOf));
        Assert.All(polls, poll => Assert.Equal(transport == "stream", BrowserPage.IsStream(poll)));
        if (transport == "stream")
        {
            // Each stream whose events were not all consumed was ended by the page, and the next one
            // started after the last consumed event.
            Assert.Equal([posted[0], posted[1]], polls.Skip(1).Select(BrowserPage.LastEventIdOf));
            await BrowserWait.UntilAsync(() => page.FailedUpdates.Count(BrowserPage.IsStream) >= 2, "the page to end the two streams it handled a part of");
        }
    }

    [Theory]
    [InlineData("poll")]
    [InlineData("stream")]
    public async Task A_handler_that_consumes_nothing_stops_the_loop_and_confirms_nothing(string transport)
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann", more: Transport(transport));
        await page.EvaluateAsync<bool>("() => { window.offered = 0; window.consume = events => { window.offered += events.length; return 0; }; return true; }");

        await host.Dispatcher.BroadcastAsync("server", Args("refused")).Bounded();
        await page.WaitUntilAsync("() => window.offered === 1 && !comety.isRunning()", null, "the loop to stop after the handler consumed nothing");

        Assert.Empty(await page.ReceivedAsync());
        Assert.Empty(await page.ErrorStatusesAsync());
        Assert.All(page.Polls, poll => Assert.Equal(transport == "stream", BrowserPage.IsStream(poll)));
    }

    [Fact]
    public async Task A_handler_that_throws_stops_the_loop_and_says_why_in_the_console()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann");
        await page.EvaluateAsync<bool>("() => { window.consume = () => { throw new Error('the page broke'); }; return true; }");

        await host.Dispatcher.BroadcastAsync("server", Args("breaks-it")).Bounded();
        var message = await page.WaitForConsoleAsync("the handler failed; updates stop");

        Assert.Contains("the page broke", message, StringComparison.Ordinal);
        Assert.False(await page.IsRunningAsync());
        Assert.Empty(await page.ReceivedAsync());
    }

    private static Dictionary<string, string?> Transport(string transport) => new() { ["transport"] = transport };
}
