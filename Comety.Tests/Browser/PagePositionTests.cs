using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Browser;

/// <summary>Every page of a user gets every event once and in order: two tabs, and a page rendered while events are posted.</summary>
[Collection(BrowserSuite.Name)]
[Trait("Category", "Browser")]
public sealed class PagePositionTests(BrowserFixture browser)
{
    [Fact]
    public async Task Two_tabs_of_one_user_each_show_every_event_once_in_order_while_one_is_stopped_and_restarted()
    {
        await using var host = await TestHost.StartAsync();
        await using var first = await browser.OpenAsync(host);
        await first.OpenAsync("ann");
        await using var second = await first.NewTabAsync();
        await second.OpenAsync("ann");
        var posted = new List<long?> { await host.Dispatcher.BroadcastAsync("server", Args("one")).Bounded() };
        await first.WaitForReceivedAsync(1);
        await second.WaitForReceivedAsync(1);

        // The second tab stops polling for a while (as a lost response or a throttled tab would)
        // while the first receives and confirms three events.
        await second.EvaluateAsync<bool>("() => { comety.stopUpdates(); return true; }");
        for (var i = 0; i < 3; i++)
        {
            posted.Add(await host.Dispatcher.BroadcastAsync("server", Args("while-stopped")).Bounded());
        }

        await first.WaitForReceivedAsync(4);
        await first.WaitUntilAsync("n => window.received.length === n", 4, "the first tab handled 4 events");
        await second.EvaluateAsync<bool>("() => { comety.startUpdates(); return true; }");
        await second.WaitForReceivedAsync(4);
        posted.Add(await host.Dispatcher.BroadcastAsync("server", Args("after")).Bounded());
        await first.WaitForReceivedAsync(5);
        await second.WaitForReceivedAsync(5);

        Assert.Equal(posted, (await first.ReceivedAsync()).Select(e => (long?)e.Sequence));
        Assert.Equal(posted, (await second.ReceivedAsync()).Select(e => (long?)e.Sequence));
        Assert.Empty(await first.ErrorStatusesAsync());
        Assert.Empty(await second.ErrorStatusesAsync());
    }

    [Fact]
    public async Task An_event_posted_between_the_pages_data_read_and_its_render_is_shown_once()
    {
        await using var host = await TestHost.StartAsync();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        await host.Dispatcher.BroadcastAsync("server", Args("before-the-read")).Bounded();
        await using var page = await browser.OpenAsync(host);

        await page.OpenAsync("ann", postBetween: "between");
        await page.WaitForReceivedAsync(1);
        var after = await host.Dispatcher.BroadcastAsync("server", Args("after")).Bounded();
        await page.WaitForReceivedAsync(2);

        var received = await page.ReceivedAsync();
        Assert.Equal(["between", "after"], received.Select(e => e.Type));
        Assert.Equal(after, received[^1].Sequence);
        Assert.Equal(1, BrowserPage.ConfirmOf(page.Polls[0]));
    }

    [Fact]
    public async Task A_tab_refused_with_429_keeps_retrying_from_its_position_and_gets_every_event_once_a_place_frees()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Configure = o => o.MaxPollsPerUser = 1 });
        await using var first = await browser.OpenAsync(host);
        await first.OpenAsync("ann");
        await host.WaitUntilPollsWaitAsync(1);
        await using var second = await first.NewTabAsync();
        await second.OpenAsync("ann");
        await second.WaitUntilAsync("() => window.errors.some(e => e.status === 429)", null, "a poll refused with 429");
        var posted = await host.Dispatcher.BroadcastAsync("server", Args("while-refused")).Bounded();
        await first.WaitForReceivedAsync(1);

        await first.EvaluateAsync<bool>("() => { comety.stopUpdates(); return true; }");
        await second.WaitForReceivedAsync(1);

        Assert.Equal([posted], (await second.ReceivedAsync()).Select(e => (long?)e.Sequence));
        Assert.True(await second.IsRunningAsync());
        Assert.All(await second.ErrorStatusesAsync(), status => Assert.Equal(429, status));
    }
}
