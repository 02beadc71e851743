using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Browser;

/// <summary>
/// After a network loss the loop waits out its backoff, unless the browser reports <c>online</c>:
/// then it retries at once. The pages here back off for a minute, longer than any wait of a test,
/// so that only <c>online</c> can explain a retry.
/// </summary>
[Collection(BrowserSuite.Name)]
[Trait("Category", "Browser")]
public sealed class OnlineTests(BrowserFixture browser)
{
    private const string StartWithLongBackoff =
        "() => { comety.defaults.retryDelay = 60000; comety.defaults.maxRetryDelay = 60000; comety.startUpdates(); return comety.isRunning(); }";

    [Theory]
    [InlineData("poll")]
    [InlineData("stream")]
    [InlineData("auto")]
    public async Task Back_online_the_page_retries_at_once_rather_than_after_its_backoff(string transport)
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann", autoStart: false, more: new Dictionary<string, string?> { ["transport"] = transport });

        await page.Page.Context.SetOfflineAsync(true).Bounded();
        Assert.True(await page.EvaluateAsync<bool>(StartWithLongBackoff));
        await page.WaitUntilAsync("() => window.errors.length >= 1", null, "the first request to fail offline");
        await page.Page.Context.SetOfflineAsync(false).Bounded();
        var posted = await host.Dispatcher.BroadcastAsync("server", Args("back")).Bounded();
        await page.WaitForReceivedAsync(1);

        Assert.Equal([posted!.Value], (await page.ReceivedAsync()).Select(e => e.Sequence));
        Assert.Equal([0], await page.ErrorStatusesAsync());
        Assert.True(await page.IsRunningAsync());
        if (transport == "stream")
        {
            Assert.True(BrowserPage.IsStream(page.Polls[^1]), "The retry was not a stream.");
        }
    }

    [Fact]
    public async Task Back_online_a_stopped_loop_stays_stopped()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann", autoStart: false, more: new Dictionary<string, string?> { ["transport"] = "poll" });
        // Listeners added after comety.js's own: by the time they run, comety.js has acted on 'online'.
        await page.EvaluateAsync<bool>(
            "() => { window.polls = 0; jQuery(document).on('ajaxSend', () => window.polls++); window.wentOnline = false; window.addEventListener('online', () => window.wentOnline = true); return true; }");

        await page.Page.Context.SetOfflineAsync(true).Bounded();
        Assert.True(await page.EvaluateAsync<bool>(StartWithLongBackoff));
        await page.WaitUntilAsync("() => window.errors.length >= 1", null, "the first poll to fail offline");
        await page.EvaluateAsync<bool>("() => { comety.stopUpdates(); return comety.isRunning(); }");
        await page.Page.Context.SetOfflineAsync(false).Bounded();
        await page.WaitUntilAsync("() => window.wentOnline", null, "the browser to report online");

        Assert.Equal(1, await page.EvaluateAsync<int>("() => window.polls"));
        Assert.False(await page.IsRunningAsync());
    }
}
