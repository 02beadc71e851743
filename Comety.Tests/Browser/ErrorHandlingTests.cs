using Comety.Tests.Infrastructure;

namespace Comety.Tests.Browser;

[Collection(BrowserSuite.Name)]
[Trait("Category", "Browser")]
public sealed class ErrorHandlingTests(BrowserFixture browser)
{
    [Fact]
    public async Task A_403_runs_the_error_handler_and_stops_the_loop()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);

        // Timers on a clock the test moves: a retry the script scheduled would run in RunForAsync.
        await page.Page.Clock.InstallAsync().Bounded();
        await page.OpenAsync("ann");
        await BrowserWait.UntilAsync(() => host.Dispatcher.WaitingPollCount == 1, "the page's poll to wait at the server");

        await host.Dispatcher.UnregisterUserAsync("ann").Bounded();

        await page.WaitUntilAsync("() => window.errors.length > 0", null, "the error handler to run");
        Assert.Equal([403], await page.ErrorStatusesAsync());
        Assert.False(await page.IsRunningAsync());
        var polls = page.Polls.Count;
        await page.Page.Clock.RunForAsync(60_000).Bounded();
        Assert.Equal(polls, page.Polls.Count);
        Assert.Equal([403], await page.ErrorStatusesAsync());
    }
}
