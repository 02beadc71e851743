using System.Net;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;

namespace Comety.Tests.Http;

/// <summary>
/// The README's Message handler bound to <c>^room:</c>, driven over HTTP: a room member can speak
/// only in the rooms it is in, never in another room and never to everyone.
/// </summary>
public sealed class RoomMessageTests
{
    [Fact]
    public async Task A_member_cannot_post_into_another_room_or_to_everyone_through_the_readme_handler()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Antiforgery = false, ClientChannels = { "room:*" } }).Bounded();
        var dispatcher = host.Dispatcher;
        using var binding = ReadmeMessageHandler.Bind(dispatcher);
        foreach (var (user, room) in new[] { ("ann", "room:one"), ("bob", "room:two"), ("cid", null) })
        {
            await dispatcher.RegisterUserAsync(user).Bounded();
            if (room is not null)
            {
                await dispatcher.SubscribeAsync(user, room).Bounded();
            }
        }

        using var ann = host.CreateClient("ann");
        using var bob = host.CreateClient("bob");
        using var cid = host.CreateClient("cid");

        // Into a room she is not in: refused, and nothing is posted.
        using var intoOther = await ann.SendJsonAsync("""{"type": "message", "data": {"text": "into two"}, "channel": "room:two"}""").Bounded();
        var problem = await intoOther.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal("not-subscribed", problem.GetProperty("reason").GetString());

        // Without a channel: the handler is told her rooms, and posts to them only (it used to get
        // a null channel and broadcast).
        await ann.SendNoContentAsync("""{"type": "message", "data": {"text": "no channel"}}""");

        // Into a room she has left: refused.
        await ann.SendNoContentAsync("""{"type": "subscribe", "channel": "room:two"}""");
        await ann.SendNoContentAsync("""{"type": "unsubscribe", "channel": "room:two"}""");
        using var afterLeaving = await ann.SendJsonAsync("""{"type": "message", "data": {"text": "after leaving"}, "channel": "room:two"}""").Bounded();
        await afterLeaving.AssertProblemAsync(HttpStatusCode.Forbidden);

        await ann.SendNoContentAsync("""{"type": "message", "data": {"text": "in one"}, "channel": "room:one"}""");

        var annSaw = await ann.PollOkAsync("timeout=0");
        Assert.Equal(["no channel", "in one"], annSaw.Events!.Select(e => e.Args.GetProperty("text").GetString()));
        Assert.All(annSaw.Events!, e => Assert.Equal("room:one", e.Channel));
        Assert.Null((await bob.PollOkAsync("timeout=0")).Events);
        Assert.Null((await cid.PollOkAsync("timeout=0")).Events);
    }
}
