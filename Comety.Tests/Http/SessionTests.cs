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
}
