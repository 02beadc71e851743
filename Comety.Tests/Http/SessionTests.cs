using System.Net;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;

namespace Comety.Tests.Http;

public sealed class SessionTests
{
    [Fact]
    public async Task A_poll_that_ends_after_another_request_changed_the_session_does_not_write_it_back()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Session = true }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        using (var written = await client.PutAsync(new Uri("/test/session/signed-in?value=yes", UriKind.Relative), null).Bounded())
        {
            Assert.Equal(HttpStatusCode.NoContent, written.StatusCode);
        }

        var poll = client.PollAsync("timeout=300");
        await host.WaitUntilPollsWaitAsync();
        using (var signedOut = await client.DeleteAsync(new Uri("/test/session/signed-in", UriKind.Relative)).Bounded())
        {
            Assert.Equal(HttpStatusCode.NoContent, signedOut.StatusCode);
        }

        await host.Dispatcher.UnregisterUserAsync("ann").Bounded();
        using var answer = await poll.Bounded();
        using var read = await client.GetAsync(new Uri("/test/session/signed-in", UriKind.Relative)).Bounded();

        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
    }

    [Fact]
    public async Task A_poll_answered_with_events_after_another_request_changed_the_session_does_not_write_it_back()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Session = true }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        using (var written = await client.PutAsync(new Uri("/test/session/cart?value=empty", UriKind.Relative), null).Bounded())
        {
            Assert.Equal(HttpStatusCode.NoContent, written.StatusCode);
        }

        // Twice: the second poll has a response time to measure its network delay from.
        await client.PollOkAsync("timeout=0");
        var poll = client.PollOkAsync("timeout=300&confirm=0&elapsed=0.1");
        await host.WaitUntilPollsWaitAsync();
        using (var changed = await client.PutAsync(new Uri("/test/session/cart?value=three-books", UriKind.Relative), null).Bounded())
        {
            Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        }

        await host.Dispatcher.BroadcastAsync("Chat", TestEvents.Args("line")).Bounded();
        var answer = await poll.Bounded();
        using var read = await client.GetAsync(new Uri("/test/session/cart", UriKind.Relative)).Bounded();

        Assert.Equal([1L], answer.Sequences);
        Assert.Equal("three-books", await read.Content.ReadAsStringAsync().Bounded());
        Assert.Equal(1, host.Dispatcher.GetNetworkDelayEstimator("ann", SessionCookie(host, client)).MeasurementCount);
    }

    [Fact]
    public async Task Without_sessions_a_poll_is_served_and_the_delay_lives_with_the_user()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Session = false }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        await client.PollOkAsync("timeout=0");
        await client.PollOkAsync("timeout=0&elapsed=0");

        Assert.Equal(1, host.Dispatcher.GetNetworkDelayEstimator("ann").MeasurementCount);
    }

    private static string SessionCookie(TestHost host, HttpClient client) =>
        Uri.UnescapeDataString(host.CookiesOf(client).GetCookies(host.BaseAddress)[".AspNetCore.Session"]!.Value);
}
