using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Browser;

[Collection(BrowserSuite.Name)]
[Trait("Category", "Browser")]
public sealed class ReceivingTests(BrowserFixture browser)
{
    [Theory]
    [InlineData(null, "3.")]
    [InlineData(BrowserPage.JQuery4Path, "4.")]
    public async Task A_page_receives_the_broadcast_user_and_channel_events_meant_for_it_in_the_order_they_were_posted(string? jquery, string jqueryVersion)
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann", jquery);
        Assert.StartsWith(jqueryVersion, await page.EvaluateAsync<string>("() => jQuery.fn.jquery"), StringComparison.Ordinal);
        await host.Dispatcher.RegisterUserAsync("bob").Bounded();
        await host.Dispatcher.SubscribeAsync("ann", "room-1").Bounded();
        var dispatcher = host.Dispatcher;

        // Two rounds: the loop goes on polling after a response.
        var first = new[]
        {
            await dispatcher.BroadcastAsync("server", Args("hello")).Bounded(),
            await dispatcher.PostToUserAsync("ann", "server", Args("for-ann")).Bounded(),
            await dispatcher.PostToChannelAsync("room-1", "server", Args("chat", ("text", "hi"))).Bounded(),
        };
        await dispatcher.PostToUserAsync("bob", "server", Args("for-bob")).Bounded();
        await dispatcher.PostToChannelAsync("room-2", "server", Args("elsewhere")).Bounded();
        await page.WaitForReceivedAsync(first.Length);
        var second = new[]
        {
            await dispatcher.PostToChannelAsync("room-1", "server", Args("chat", ("text", "again"))).Bounded(),
            await dispatcher.BroadcastAsync("server", Args("bye")).Bounded(),
        };
        await page.WaitForReceivedAsync(first.Length + second.Length);

        var received = await page.ReceivedAsync();
        Assert.Equal([.. first, .. second], received.Select(e => (long?)e.Sequence));
        Assert.Equal(["hello", "for-ann", "chat", "chat", "bye"], received.Select(e => e.Type));
        Assert.Equal(["hi", "again"], received.Where(e => e.Type == "chat").Select(e => e.Args.GetProperty("text").GetString()));
        Assert.Equal("room-1", received[2].Args.GetProperty(CometyEvent.ChannelArgument).GetString());
        Assert.All(received, e => Assert.Equal("server", e.Sender));
        Assert.Empty(await page.ErrorStatusesAsync());
    }
}
