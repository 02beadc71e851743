using Comety.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Browser;

/// <summary>
/// comety.js's default handlers reload a page at most once before it needs a person, and never a
/// page nobody is signed in for. Each test counts the page's loads once the page has said, in the
/// console, that it stopped: after that message nothing is left that could reload it.
/// </summary>
[Collection(BrowserSuite.Name)]
[Trait("Category", "Browser")]
public sealed class ReloadTests(BrowserFixture browser)
{
    private const string ReloadMark = "Comety.reloaded:/test/updates";

    [Fact]
    public async Task A_signed_out_page_with_auto_start_never_reloads_itself()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);

        await page.OpenAsync("visitor", more: Query(("signedIn", "false"), ("handlers", "defaults")));
        await page.WaitForConsoleAsync("nobody is signed in on this page (403 no-user)");

        Assert.Equal(1, page.PageLoads);
        Assert.Single(page.Polls);
        Assert.False(await page.IsRunningAsync());
        Assert.Null(await page.EvaluateAsync<string?>("key => sessionStorage.getItem(key)", ReloadMark));
    }

    [Fact]
    public async Task A_page_whose_user_is_never_registered_reloads_itself_once_then_stops_and_says_why()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);

        await GotoAsync(page, ("user", "ann"), ("register", "false"), ("handlers", "defaults"));
        var message = await page.WaitForConsoleAsync("It will not reload itself again");

        Assert.Contains("403 not-registered", message, StringComparison.Ordinal);
        Assert.Equal(2, page.PageLoads);
        Assert.Equal(2, page.Polls.Count);
        Assert.False(await page.IsRunningAsync());
        Assert.False(host.Dispatcher.IsRegistered("ann"));
    }

    [Fact]
    public async Task Without_session_storage_a_page_never_reloads_itself()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);
        await page.Page.AddInitScriptAsync("Object.defineProperty(window, 'sessionStorage', { get: function () { throw new DOMException('refused', 'SecurityError'); } });").Bounded();

        await GotoAsync(page, ("user", "ann"), ("register", "false"), ("handlers", "defaults"));
        await page.WaitForConsoleAsync("without sessionStorage the page does not reload itself");

        Assert.Equal(1, page.PageLoads);
        Assert.False(await page.IsRunningAsync());
    }

    [Fact]
    public async Task The_default_handler_reloads_once_for_events_and_stops_when_the_reloaded_page_gets_them_again()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann", more: Query(("handlers", "defaults"), ("confirm", "false")));
        await BrowserWait.UntilAsync(() => host.Dispatcher.WaitingPollCount == 1, "the page's poll to wait at the server");

        // From position 0 and with the default handler (which consumes nothing), the reloaded
        // page's first poll gets the same event again: this used to reload for ever.
        await host.Dispatcher.BroadcastAsync("server", Args("news")).Bounded();
        var message = await page.WaitForConsoleAsync("It will not reload itself again");

        Assert.Contains("events arrived", message, StringComparison.Ordinal);
        Assert.Contains("comety.defaults.handler", message, StringComparison.Ordinal);
        Assert.Equal(2, page.PageLoads);
        Assert.False(await page.IsRunningAsync());
    }

    [Fact]
    public async Task A_page_that_polled_successfully_after_reloading_itself_may_reload_itself_once_more()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann", more: Query(("handlers", "default-errors")));
        await BrowserWait.UntilAsync(() => host.Dispatcher.WaitingPollCount == 1, "the page's poll to wait at the server");

        // Forgotten by the server: the page reloads, which registers its user again.
        await host.Dispatcher.UnregisterUserAsync("ann").Bounded();
        await BrowserWait.UntilAsync(() => page.PageLoads == 2 && host.Dispatcher.WaitingPollCount == 1, "the reloaded page's poll to wait");

        // A poll answered with an event its handler consumes: the page works, its mark goes.
        await host.Dispatcher.BroadcastAsync("server", Args("hello")).Bounded();
        await page.WaitForReceivedAsync(1);
        await page.WaitUntilAsync("key => sessionStorage.getItem(key) === null", ReloadMark, "the reload mark to be removed");

        await host.Dispatcher.UnregisterUserAsync("ann").Bounded();
        await BrowserWait.UntilAsync(() => page.PageLoads == 3 && host.Dispatcher.WaitingPollCount == 1, "the page to reload once more and poll");

        Assert.True(await page.IsRunningAsync());
        Assert.DoesNotContain("will not reload", await page.DescribeAsync(), StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Query(params (string Name, string Value)[] values) =>
        values.ToDictionary(static v => v.Name, static v => (string?)v.Value);

    // For pages that may reload while Playwright would read them: only the first load is waited for.
    private static async Task GotoAsync(BrowserPage page, params (string Name, string Value)[] query)
    {
        var response = await page.Page.GotoAsync(QueryHelpers.AddQueryString("/test/page", Query(query))).Bounded();
        Assert.True(response is { Ok: true }, $"The test page failed to load: {response?.Status}.");
    }
}
