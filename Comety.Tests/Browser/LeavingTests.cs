using Comety.Tests.Infrastructure;
using Microsoft.Playwright;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Browser;

[Collection(BrowserSuite.Name)]
[Trait("Category", "Browser")]
public sealed class LeavingTests(BrowserFixture browser)
{
    [Fact]
    public async Task Updates_go_on_when_the_person_chooses_to_stay_on_the_page()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann");
        // The page asks before it is left (unsent input, say); the person says to stay.
        await page.EvaluateAsync<object>("() => window.addEventListener('beforeunload', e => { e.preventDefault(); e.returnValue = ''; })");
        await page.Page.ClickAsync("#user").Bounded(); // Chromium asks only on pages the person has used.
        var asked = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        page.Page.Dialog += (_, dialog) =>
        {
            asked.TrySetResult(dialog.Type);
            _ = dialog.DismissAsync();
        };

        await page.Page.CloseAsync(new PageCloseOptions { RunBeforeUnload = true }).Bounded();

        Assert.Equal(DialogType.BeforeUnload, await asked.Task.Bounded());
        Assert.True(await page.IsRunningAsync(), "Updates stopped although the page stayed.");
        var sequence = await host.Dispatcher.BroadcastAsync("server", Args("still-here")).Bounded();
        await page.WaitForReceivedAsync(1);
        Assert.Equal([sequence!.Value], (await page.ReceivedAsync()).Select(e => e.Sequence));
    }

    [Fact]
    public async Task Updates_stop_when_the_page_enters_the_back_forward_cache_and_resume_when_it_comes_back()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann");
        await BrowserWait.UntilAsync(() => host.Dispatcher.WaitingPollCount == 1, "the page's poll to wait at the server");

        // Chromium under Playwright does not use the back/forward cache: the page gets the events it would.
        await page.EvaluateAsync<bool>("() => window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }))");

        Assert.False(await page.IsRunningAsync());
        await BrowserWait.UntilAsync(() => host.Dispatcher.WaitingPollCount == 0, "the server to release the poll");
        var sequence = await host.Dispatcher.BroadcastAsync("server", Args("while-away")).Bounded();

        await page.EvaluateAsync<bool>("() => window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))");

        Assert.True(await page.IsRunningAsync());
        await page.WaitForReceivedAsync(1);
        Assert.Equal([sequence!.Value], (await page.ReceivedAsync()).Select(e => e.Sequence));
    }
}
