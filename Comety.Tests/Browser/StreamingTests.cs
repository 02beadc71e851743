using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Browser;

/// <summary>
/// Protocol version 2 end to end in Chromium: the page streams from the real server, falls back to
/// long polling behind a proxy that buffers, resumes a stream cut in the middle, and never streams
/// when told to poll.
/// </summary>
[Collection(BrowserSuite.Name)]
[Trait("Category", "Browser")]
public sealed class StreamingTests(BrowserFixture browser)
{
    [Fact]
    public async Task A_page_receives_every_event_in_order_on_one_stream()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann");
        await host.Dispatcher.SubscribeAsync("ann", "room-1").Bounded();
        var dispatcher = host.Dispatcher;

        var first = new[]
        {
            await dispatcher.BroadcastAsync("server", Args("hello")).Bounded(),
            await dispatcher.PostToUserAsync("ann", "server", Args("for-ann")).Bounded(),
            await dispatcher.PostToChannelAsync("room-1", "server", Args("chat")).Bounded(),
        };
        await dispatcher.PostToChannelAsync("room-2", "server", Args("elsewhere")).Bounded();
        await page.WaitForReceivedAsync(first.Length);
        var second = new[]
        {
            await dispatcher.BroadcastAsync("server", Args("again")).Bounded(),
            await dispatcher.BroadcastAsync("server", Args("bye")).Bounded(),
        };
        await page.WaitForReceivedAsync(first.Length + second.Length);

        var received = await page.ReceivedAsync();
        Assert.Equal([.. first, .. second], received.Select(e => (long?)e.Sequence));
        Assert.Equal(["hello", "for-ann", "chat", "again", "bye"], received.Select(e => e.Type));
        // Five events in two rounds, and one request: a stream, from the page's rendered position.
        var stream = Assert.Single(page.Polls);
        Assert.True(BrowserPage.IsStream(stream), $"The page polled: {await page.DescribeAsync()}");
        Assert.Equal(BrowserPage.ConfirmOf(stream), BrowserPage.LastEventIdOf(stream));
        await AssertGoesOnUntroubledAsync(page);
    }

    [Fact]
    public async Task Behind_a_proxy_that_buffers_responses_the_page_falls_back_to_polling_and_loses_nothing()
    {
        await using var host = await TestHost.StartAsync();
        await using var proxy = await TestProxy.StartAsync(host.BaseAddress, buffer: true);
        await using var page = await browser.OpenAsync(proxy.BaseAddress);
        await page.OpenAsync("ann");

        // The stream reached the server, which writes these events to it; the proxy holds them back.
        await BrowserWait.UntilAsync(() => proxy.ForwardedStreams == 1, "the page's stream to reach the server");
        var during = new[]
        {
            await host.Dispatcher.BroadcastAsync("server", Args("during", ("i", 0))).Bounded(),
            await host.Dispatcher.BroadcastAsync("server", Args("during", ("i", 1))).Bounded(),
        };
        await page.WaitForConsoleAsync("streaming did not get through");
        await page.WaitForReceivedAsync(during.Length);
        var after = await host.Dispatcher.BroadcastAsync("server", Args("after")).Bounded();
        await page.WaitForReceivedAsync(during.Length + 1);

        Assert.Equal([.. during, after], (await page.ReceivedAsync()).Select(e => (long?)e.Sequence));
        var polls = page.Polls;
        Assert.True(BrowserPage.IsStream(polls[0]));
        Assert.True(polls.Count >= 3, $"The page polled {polls.Count - 1} times after the stream.");
        Assert.All(polls.Skip(1), poll => Assert.False(BrowserPage.IsStream(poll)));
        // The fallback polls from the position the stream started at: the held-back events come again.
        Assert.Equal(BrowserPage.ConfirmOf(polls[0]), BrowserPage.ConfirmOf(polls[1]));
        Assert.Equal(1, proxy.ForwardedStreams);
        await AssertGoesOnUntroubledAsync(page);
    }

    [Fact]
    public async Task A_stream_cut_inside_an_event_resumes_at_once_from_the_position_and_nothing_is_lost_or_repeated()
    {
        await using var host = await TestHost.StartAsync();
        await using var proxy = await TestProxy.StartAsync(host.BaseAddress, buffer: false);
        await using var page = await browser.OpenAsync(proxy.BaseAddress);
        await page.OpenAsync("ann");
        var before = await ReceivedFirstAsync(host, page);

        // The connection drops with half of the next event's message through.
        var cut = proxy.CutInsideNextEventAsync();
        var halfway = await host.Dispatcher.BroadcastAsync("server", Args("halfway")).Bounded();
        await cut.Bounded();
        var meanwhile = await host.Dispatcher.BroadcastAsync("server", Args("meanwhile")).Bounded();
        await page.WaitForReceivedAsync(3);
        var after = await host.Dispatcher.BroadcastAsync("server", Args("after")).Bounded();
        await page.WaitForReceivedAsync(4);

        Assert.Equal([before, halfway, meanwhile, after], (await page.ReceivedAsync()).Select(e => (long?)e.Sequence));
        var streams = page.Polls;
        Assert.Equal(2, streams.Count);
        Assert.All(streams, stream => Assert.True(BrowserPage.IsStream(stream)));
        Assert.Equal(before, BrowserPage.LastEventIdOf(streams[1]));
        Assert.Equal(2, proxy.ForwardedStreams);
        // The first cut is resumed at once, without troubling the error handler.
        await AssertGoesOnUntroubledAsync(page);
    }

    [Fact]
    public async Task After_a_stream_worked_an_outage_is_retried_with_the_backoff_as_streams_and_the_page_never_falls_back_to_polling()
    {
        await using var host = await TestHost.StartAsync();
        await using var proxy = await TestProxy.StartAsync(host.BaseAddress, buffer: false);
        await using var page = await browser.OpenAsync(proxy.BaseAddress);
        await page.OpenAsync("ann");
        var before = await ReceivedFirstAsync(host, page);

        // The network goes down: the open stream is cut, and every new request is dropped.
        proxy.Refusing = true;
        var cut = proxy.CutInsideNextEventAsync();
        var during = await host.Dispatcher.BroadcastAsync("server", Args("during")).Bounded();
        await cut.Bounded();
        // The resume at once fails, then the retries (250 ms, doubling up to 1 s on the test page) do.
        await page.WaitUntilAsync("() => window.errors.length >= 2", null, "two failed retries");
        proxy.Refusing = false;
        await page.WaitForReceivedAsync(2);
        var after = await host.Dispatcher.BroadcastAsync("server", Args("after")).Bounded();
        await page.WaitForReceivedAsync(3);

        Assert.Equal([before, during, after], (await page.ReceivedAsync()).Select(e => (long?)e.Sequence));
        Assert.True(proxy.Refused >= 3, $"{proxy.Refused} requests refused");
        Assert.All(page.Polls, poll => Assert.True(BrowserPage.IsStream(poll), $"The page polled: {poll.Url}"));
        Assert.All(page.Polls.Skip(1), stream => Assert.Equal(before, BrowserPage.LastEventIdOf(stream)));
        Assert.All(await page.ErrorStatusesAsync(), status => Assert.Equal(0, status));
        Assert.True(await page.IsRunningAsync());
    }

    [Fact]
    public async Task With_transport_poll_the_page_never_opens_a_stream()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann", more: new Dictionary<string, string?> { ["transport"] = "poll" });

        var first = await host.Dispatcher.BroadcastAsync("server", Args("one")).Bounded();
        await page.WaitForReceivedAsync(1);
        var second = await host.Dispatcher.BroadcastAsync("server", Args("two")).Bounded();
        await page.WaitForReceivedAsync(2);

        Assert.Equal([first, second], (await page.ReceivedAsync()).Select(e => (long?)e.Sequence));
        // Every request of two rounds so far was a version 1 poll (jQuery's JSON Accept header).
        Assert.True(page.Polls.Count >= 2, $"{page.Polls.Count} polls");
        Assert.Empty(page.Streams);
        Assert.All(page.Polls, poll => Assert.Contains("application/json", poll.Headers["accept"], StringComparison.Ordinal));
        Assert.Equal("poll", await page.EvaluateAsync<string>("() => comety.defaults.transport"));
    }

    [Fact]
    public async Task Stop_updates_ends_the_stream_and_the_server_releases_it()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann");
        var first = await host.Dispatcher.BroadcastAsync("server", Args("one")).Bounded();
        await page.WaitForReceivedAsync(1);

        await page.EvaluateAsync<bool>("() => { comety.stopUpdates(); return true; }");

        await page.WaitUntilAsync("() => !comety.isRunning()", null, "the loop to stop");
        await BrowserWait.UntilAsync(() => page.FailedUpdates.Count == 1, "the page to abort its stream");
        Assert.True(BrowserPage.IsStream(Assert.Single(page.FailedUpdates)));
        Assert.Single(page.Polls);

        // The server keeps what came after for the page's next stream.
        var later = await host.Dispatcher.BroadcastAsync("server", Args("later")).Bounded();
        await page.EvaluateAsync<bool>("() => { comety.startUpdates(); return true; }");
        await page.WaitForReceivedAsync(2);
        Assert.Equal([first, later], (await page.ReceivedAsync()).Select(e => (long?)e.Sequence));
        Assert.Equal(first, BrowserPage.LastEventIdOf(page.Polls[1]));
    }

    // The page's first event, "before", posted once the page polls and received.
    private static async Task<long?> ReceivedFirstAsync(TestHost host, BrowserPage page)
    {
        var before = await host.Dispatcher.BroadcastAsync("server", Args("before")).Bounded();
        await page.WaitForReceivedAsync(1);
        return before;
    }

    // Nothing reached the error handler, and the loop still runs.
    private static async Task AssertGoesOnUntroubledAsync(BrowserPage page)
    {
        Assert.Empty(await page.ErrorStatusesAsync());
        Assert.True(await page.IsRunningAsync());
    }
}
