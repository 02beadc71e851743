using System.Net;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;

namespace Comety.Tests.Http;

public sealed class ShutdownTests
{
    [Fact]
    public async Task Stopping_the_application_ends_waiting_polls_at_once_with_no_events()
    {
        var host = await TestHost.StartAsync();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        var poll = client.PollAsync("timeout=300");
        await host.WaitUntilPollsWaitAsync();

        var stop = host.DisposeAsync().AsTask();
        using var response = await poll.Bounded();
        var answer = await CometyHttp.ReadAnswerAsync(response).Bounded();
        await stop.Bounded();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Without the shutdown hook the poll would be held 150 s, past the host's 5 s shutdown
        // timeout, and cut off instead of answered.
        Assert.Null(answer.Events);
    }

    [Fact]
    public async Task Once_polling_stops_a_new_poll_is_503_with_retry_after_and_posting_still_works()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        var waiting = client.PollAsync("timeout=300");
        await host.WaitUntilPollsWaitAsync();

        host.Dispatcher.StopPolling();
        using var ended = await waiting.Bounded();
        using var refused = await client.PollAsync("timeout=300").Bounded();
        var posted = await host.Dispatcher.BroadcastAsync("Chat", TestEvents.Args("still")).Bounded();

        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        Assert.Null((await CometyHttp.ReadAnswerAsync(ended).Bounded()).Events);
        var problem = await refused.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Equal("Shutting down", problem.Title());
        Assert.Equal("1", refused.Headers.RetryAfter?.ToString());
        Assert.NotNull(posted);
        Assert.True(host.Dispatcher.IsStopping);
    }
}
