using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Browser;

[Collection(BrowserSuite.Name)]
[Trait("Category", "Browser")]
public sealed class StoppingTests(BrowserFixture browser)
{
    [Theory]
    [InlineData("poll", "PollAbandoned")]
    [InlineData("auto", "StreamAbandoned")]
    public async Task Stop_updates_releases_the_waiting_poll_or_stream_and_the_page_polls_and_receives_no_more(string transport, string abandoned)
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);

        // The page's timers run on a clock the test moves: "no further poll" is proven by running
        // every timer the script could have set, not by waiting on the wall clock.
        await page.Page.Clock.InstallAsync().Bounded();
        await page.OpenAsync("ann", more: new Dictionary<string, string?> { ["transport"] = transport });
        await BrowserWait.UntilAsync(() => host.Dispatcher.WaitingPollCount == 1, "the page's poll to wait at the server");

        await page.EvaluateAsync<object>("() => comety.stopUpdates()");

        Assert.False(await page.IsRunningAsync());
        await BrowserWait.UntilAsync(() => host.Dispatcher.WaitingPollCount == 0, "the server to release the poll");
        await BrowserWait.UntilAsync(
            () => host.Logs.Entries.Any(e => e.EventName == abandoned && e.Message.Contains("'ann'", StringComparison.Ordinal)),
            "the server to see the poll abandoned");
        var polls = page.Polls.Count;
        var sequence = await host.Dispatcher.BroadcastAsync("server", Args("after-stop")).Bounded();
        await page.Page.Clock.RunForAsync(60_000).Bounded();
        Assert.Equal(polls, page.Polls.Count);
        Assert.Empty(await page.ReceivedAsync());
        Assert.Empty(await page.ErrorStatusesAsync());

        // The server keeps the event for the page's next poll.
        var waiting = await host.Dispatcher.PollAsync("ann", 0, TimeSpan.Zero).Bounded();
        Assert.Equal([sequence!.Value], waiting.Sequences());
    }
}
