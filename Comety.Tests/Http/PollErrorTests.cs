using System.Net;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Http;

/// <summary>The 403, 409 and 500 answers to polls: problem details with a title, never a stack trace.</summary>
public sealed class PollErrorTests
{
    [Fact]
    public async Task A_poll_from_no_identifiable_user_is_403()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient();

        using var response = await client.PollAsync("timeout=0").Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal("No user", problem.Title());

        // What tells comety.js never to reload a signed-out visitor's page.
        Assert.Equal("no-user", problem.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_poll_from_a_user_that_is_not_registered_is_403()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("mallory");

        using var response = await client.PollAsync("timeout=0").Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal("Not registered", problem.Title());
        Assert.Equal("not-registered", problem.GetProperty("reason").GetString());
        Assert.False(host.Dispatcher.IsRegistered("mallory"));
    }

    [Fact]
    public async Task A_poll_whose_user_is_unregistered_while_it_waits_is_403()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        var poll = client.PollAsync("timeout=60");
        await host.WaitUntilPollsWaitAsync();
        await host.Dispatcher.UnregisterUserAsync("ann").Bounded();
        using var response = await poll.Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal("Not registered", problem.Title());
        Assert.Equal("not-registered", problem.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_page_that_fell_more_than_the_backlog_behind_gets_409_until_it_resynchronises()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { MaxBacklog = 3 }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        for (var i = 0; i < 4; i++)
        {
            await host.Dispatcher.BroadcastAsync("Chat", Args("message", ("n", i))).Bounded();
        }

        using var first = await client.PollAsync("timeout=10&confirm=0").Bounded();
        var problem = await first.AssertProblemAsync(HttpStatusCode.Conflict);
        using var again = await client.PollAsync("timeout=10&confirm=0").Bounded();
        await again.AssertProblemAsync(HttpStatusCode.Conflict);
        var keptUp = await client.PollOkAsync("timeout=0&confirm=1");

        // A reloaded page starts from the position it rendered at, in step.
        var page = await TestPage.OpenAsync(client, "ann");
        var resynchronised = await client.PollOkAsync($"timeout=0&confirm={page.Confirm}");

        Assert.Contains("3 of its events", problem.Detail(), StringComparison.Ordinal);
        Assert.Equal("resynchronise", problem.GetProperty("reason").GetString());
        Assert.Equal([2L, 3, 4], keptUp.Sequences);
        Assert.Equal(4, page.Confirm);
        Assert.Null(resynchronised.Events);
        Assert.Equal(4, resynchronised.LastId);
    }

    [Fact]
    public async Task A_poll_to_a_controller_without_a_dispatcher_is_500()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Behaviour = { NoDispatcher = true } }).Bounded();
        using var client = host.CreateClient("ann");

        using var response = await client.PollAsync("timeout=0").Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.InternalServerError);
        Assert.Equal("Comety is misconfigured", problem.Title());
        Assert.True(host.Logged("NoDispatcher"));
    }

    [Fact]
    public async Task A_poll_the_application_fails_to_identify_is_500_without_a_stack_trace()
    {
        var failure = new InvalidOperationException("Session has not been configured for this application or request.");
        await using var host = await TestHost.StartAsync(new TestHostOptions { Behaviour = { UserIdFailure = failure } }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        using var response = await client.PollAsync("timeout=0").Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.InternalServerError);
        Assert.DoesNotContain("Session", problem.GetRawText(), StringComparison.Ordinal);
        Assert.Contains(host.Logs.Entries, e => e.EventName == "IdentificationFailed" && e.Exception == failure);
    }
}
