using System.Net;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Http;

/// <summary>One user holds at most <c>MaxPollsPerUser</c> polls: one more is refused with 429, and no page loses an event.</summary>
public sealed class PollLimitTests
{
    private const int Limit = 3;

    [Fact]
    public async Task One_poll_more_than_MaxPollsPerUser_is_429_and_the_page_that_asks_again_loses_nothing()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Configure = o => o.MaxPollsPerUser = Limit }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        var held = Enumerable.Range(0, Limit).Select(_ => client.PollAsync("timeout=60&confirm=0")).ToArray();
        await host.WaitUntilPollsWaitAsync(Limit);

        using var refused = await client.PollAsync("timeout=60&confirm=0").Bounded();
        var problem = await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal(Limit, host.Dispatcher.WaitingPollCount);
        Assert.Equal("1", refused.Headers.RetryAfter?.ToString());
        Assert.Equal("Too many polls", problem.Title());
        Assert.True(host.Logged("RequestRejected", "429"));

        var posted = await host.Dispatcher.BroadcastAsync("Chat", Args("line")).Bounded();
        var answers = await Task.WhenAll(held.Select(async poll =>
        {
            using var response = await poll.Bounded();
            return await CometyHttp.ReadAnswerAsync(response);
        })).Bounded();
        var retried = await client.PollOkAsync("timeout=0&confirm=0");

        Assert.All(answers, answer => Assert.Equal([posted!.Value], answer.Sequences));
        Assert.Equal([posted!.Value], retried.Sequences);
    }

    [Fact]
    public async Task The_limit_is_per_user_and_a_poll_that_ends_frees_its_place()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Configure = o => o.MaxPollsPerUser = 1 }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        await host.Dispatcher.RegisterUserAsync("bob").Bounded();
        using var ann = host.CreateClient("ann");
        using var bob = host.CreateClient("bob");
        using var abandon = new CancellationTokenSource();
        var annHeld = ann.PollAsync("timeout=60", abandon.Token);
        await host.WaitUntilPollsWaitAsync(1);

        var bobHeld = bob.PollAsync("timeout=60");
        await host.WaitUntilPollsWaitAsync(2);
        await abandon.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => annHeld.Bounded());
        await host.WaitUntilPollsWaitAsync(1);
        var annAgain = ann.PollAsync("timeout=60&confirm=0");
        await host.WaitUntilPollsWaitAsync(2);
        await host.Dispatcher.BroadcastAsync("Chat", Args("line")).Bounded();

        using var annAnswer = await annAgain.Bounded();
        using var bobAnswer = await bobHeld.Bounded();
        Assert.Equal(HttpStatusCode.OK, annAnswer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bobAnswer.StatusCode);
    }

    [Fact]
    public async Task Ten_polls_per_user_by_default()
    {
        Assert.Equal(10, new CometyOptions().MaxPollsPerUser);
        Assert.Equal(10, new DispatcherOptions().MaxPollsPerUser);
        await using var host = await TestHost.StartAsync().Bounded();
        Assert.Equal(10, host.Dispatcher.Options.MaxPollsPerUser);
    }
}
