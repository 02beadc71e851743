using System.Collections.Concurrent;
using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Browser;

[Collection(BrowserSuite.Name)]
[Trait("Category", "Browser")]
public sealed class SendingTests(BrowserFixture browser)
{
    [Theory]
    [InlineData(null)]
    [InlineData(BrowserPage.JQuery4Path)]
    public async Task Subscribe_and_send_reach_the_server_with_the_antiforgery_token(string? jquery)
    {
        await using var host = await TestHost.StartAsync();
        var messages = new ConcurrentQueue<string>();
        using var plain = host.Dispatcher.On(LifecycleEvent.Message, context => Record(messages, "plain", context));
        using var rooms = host.Dispatcher.On(LifecycleEvent.Message, context => Record(messages, "rooms", context), "^room-");
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann", jquery);

        var sent = await StatusOfAsync(page, "comety.send({ n: 1 })");
        var subscribed = await StatusOfAsync(page, "comety.subscribe('room-1')");
        var sentToRoom = await StatusOfAsync(page, "comety.send({ text: 'hi' }, 'room-1')");

        Assert.Equal([204, 204, 204], [sent, subscribed, sentToRoom]);
        Assert.Equal(["room-1"], host.Dispatcher.GetChannels("ann"));
        Assert.Equal(["plain ann - {\"n\":1}", "rooms ann room-1 {\"text\":\"hi\"}"], messages);
        Assert.Equal(3, page.Sends.Count);
        Assert.All(page.Sends, request =>
        {
            Assert.False(string.IsNullOrEmpty(request.Headers.GetValueOrDefault("requestverificationtoken")), "A send carried no antiforgery token.");
            Assert.StartsWith("application/json", request.Headers.GetValueOrDefault("content-type"), StringComparison.Ordinal);
        });

        // The subscription is real: the page receives the channel's events.
        var sequence = await host.Dispatcher.PostToChannelAsync("room-1", "server", Args("chat")).Bounded();
        await page.WaitForReceivedAsync(1);
        Assert.Equal([sequence!.Value], (await page.ReceivedAsync()).Select(e => e.Sequence));
    }

    [Fact]
    public async Task While_a_loop_runs_on_another_url_sends_go_to_that_url_and_once_it_stops_to_the_defaults_url()
    {
        await using var host = await TestHost.StartAsync();
        var messages = new ConcurrentQueue<string>();
        using var plain = host.Dispatcher.On(LifecycleEvent.Message, context => Record(messages, "plain", context));
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann", autoStart: false);
        // The loop runs on the updates URL given to startUpdates; the defaults name one that does not exist.
        await page.EvaluateAsync<bool>("() => { const url = comety.defaults.url; comety.defaults.url = '/test/elsewhere'; comety.startUpdates({ url: url }); return comety.isRunning(); }");

        var sent = await StatusOfAsync(page, "comety.send({ n: 1 })");
        var subscribed = await StatusOfAsync(page, "comety.subscribe('room-1')");
        await page.EvaluateAsync<bool>("() => { comety.stopUpdates(); return comety.isRunning(); }");
        var sentAfterStop = await StatusOfAsync(page, "comety.send({ n: 2 })");

        Assert.Equal([204, 204, 404], [sent, subscribed, sentAfterStop]);
        Assert.Equal(["plain ann - {\"n\":1}"], messages);
        Assert.Equal(["room-1"], host.Dispatcher.GetChannels("ann"));
        Assert.Equal(2, page.Sends.Count);
    }

    [Fact]
    public async Task A_send_without_the_antiforgery_token_is_refused()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann", autoStart: false);

        var status = await page.EvaluateAsync<int>(
            "() => fetch('/test/updates', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ type: 'subscribe', channel: 'room-1' }) }).then(r => r.status)");

        Assert.Equal(403, status);
        Assert.Empty(host.Dispatcher.GetChannels("ann"));
    }

    // The status of the request that a comety.send, subscribe or unsubscribe call makes, once it completed.
    private static Task<int> StatusOfAsync(BrowserPage page, string call) =>
        page.EvaluateAsync<int>($"() => new Promise(resolve => {{ const xhr = {call}; xhr.always(() => resolve(xhr.status)); }})");

    private static ValueTask Record(ConcurrentQueue<string> messages, string handler, LifecycleContext context)
    {
        messages.Enqueue($"{handler} {context.UserId} {context.Channel ?? "-"} {context.Data?.GetRawText()}");
        return default;
    }
}
