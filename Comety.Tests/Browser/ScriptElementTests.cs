using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Browser;

/// <summary>What the script elements of <c>&lt;comety-script&gt;</c> do in a real page: jQuery, the CSP nonce, the timing mark.</summary>
[Collection(BrowserSuite.Name)]
[Trait("Category", "Browser")]
public sealed class ScriptElementTests(BrowserFixture browser)
{
    private const string CometyJQuery = "/_content/Comety.Razor/lib/jquery/dist/jquery.min.js";

    [Fact]
    public async Task A_page_with_its_own_jquery_and_a_plugin_keeps_both_with_include_jquery()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);

        await page.OpenAsync("ann", BrowserPage.JQuery4Path, more: new Dictionary<string, string?> { ["includeJquery"] = "true" });

        Assert.StartsWith("4.", await page.EvaluateAsync<string>("() => jQuery.fn.jquery"), StringComparison.Ordinal);
        Assert.Equal("the page's plugin", await page.EvaluateAsync<string>("() => jQuery.fn.testPlugin()"));
        Assert.True(await page.EvaluateAsync<bool>("() => window.$ === window.jQuery"));
        Assert.Equal(0, await page.EvaluateAsync<int>("path => performance.getEntriesByType('resource').filter(e => e.name.indexOf(path) >= 0).length", CometyJQuery));
        await BrowserWait.UntilAsync(() => host.Dispatcher.WaitingPollCount == 1, "the page's poll to wait at the server");
        await host.Dispatcher.BroadcastAsync("server", Args("hello")).Bounded();
        await page.WaitForReceivedAsync(1);
    }

    [Fact]
    public async Task A_page_without_jquery_shows_cometys_message_not_a_reference_error()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);

        await page.OpenAsync("ann", "none");
        await page.WaitForConsoleAsync("Comety needs jQuery");

        Assert.DoesNotContain("jQuery is not defined", await page.DescribeAsync(), StringComparison.Ordinal);
        Assert.Empty(page.Polls);
    }

    [Fact]
    public async Task Under_a_nonce_content_security_policy_the_jquery_that_include_jquery_writes_runs()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);

        await page.OpenAsync("ann", more: new Dictionary<string, string?> { ["csp"] = "true" });

        Assert.StartsWith("3.", await page.EvaluateAsync<string>("() => jQuery.fn.jquery"), StringComparison.Ordinal);
        await BrowserWait.UntilAsync(() => host.Dispatcher.WaitingPollCount == 1, "the page's poll to wait at the server");
        await host.Dispatcher.BroadcastAsync("server", Args("hello")).Bounded();
        await page.WaitForReceivedAsync(1);
        Assert.DoesNotContain("Content Security Policy", await page.DescribeAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_main_elements_timing_snippet_keeps_the_mark_of_the_early_one()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);

        await page.OpenAsync("ann", autoStart: false);

        Assert.True(await page.EvaluateAsync<bool>("() => typeof window.earlyTimingMark === 'number' && window.CometyTiming.comety === window.earlyTimingMark"));
    }
}
