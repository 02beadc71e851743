using System.Net;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Http;

/// <summary>The protocol over HTTP/2 ("HTTP/2 works too"), cleartext with prior knowledge.</summary>
public sealed class Http2Tests
{
    [Fact]
    public async Task Polls_and_sends_work_over_HTTP_2()
    {
        await using var host = await StartAsync(antiforgery: false);
        using var client = Http2Client(host, "ann");

        await client.SendNoContentAsync("""{"type": "subscribe", "channel": "room-1"}""");
        using (var abort = new CancellationTokenSource())
        {
            var abandoned = client.PollAsync("timeout=60", abort.Token);
            await host.WaitUntilPollsWaitAsync();
            await abort.CancelAsync().Bounded();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned.Bounded());
            await host.WaitUntilPollsWaitAsync(0);
        }

        var poll = client.PollAsync("timeout=60");
        await host.WaitUntilPollsWaitAsync();
        var seq = await host.Dispatcher.PostToChannelAsync("room-1", "Chat", Args("message")).Bounded();
        using var response = await poll.Bounded();
        var answer = await CometyHttp.ReadAnswerAsync(response);

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal([seq!.Value], answer.Sequences);
    }

    [Fact]
    public async Task A_stream_delivers_over_HTTP_2()
    {
        await using var host = await StartAsync(antiforgery: true);
        using var client = Http2Client(host, "ann");

        var (stream, _) = await EventStreamReader.OpenAsync(client, "confirm=0");
        await using var __ = stream;
        await host.WaitUntilPollsWaitAsync();
        var seq = await host.Dispatcher.BroadcastAsync("Chat", Args("message")).Bounded();
        var events = await stream.EventsAsync(1);

        Assert.Equal(HttpVersion.Version20, stream.Response.Version);
        Assert.Equal([seq!.Value], events.Select(e => e.Seq));
    }

    // HTTP/2 only, cleartext with prior knowledge; ann is registered.
    private static async Task<TestHost> StartAsync(bool antiforgery)
    {
        var host = await TestHost.StartAsync(new TestHostOptions
        {
            Antiforgery = antiforgery,
            ConfigureServices = services => services.Configure<KestrelServerOptions>(kestrel => kestrel.ConfigureEndpointDefaults(e => e.Protocols = HttpProtocols.Http2)),
        }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        return host;
    }

    private static HttpClient Http2Client(TestHost host, string userId)
    {
        var client = host.CreateClient(userId);
        client.DefaultRequestVersion = HttpVersion.Version20;
        client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        return client;
    }
}
