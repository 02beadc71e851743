using System.Net;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Comety.Tests.Http;

/// <summary>
/// How long the server holds a poll, on a clock the tests move: <c>timeout * 0.5</c> less the
/// expected network delay, measured from <c>elapsed</c>, kept in the session when there is one
/// and with the user otherwise (PROTOCOL.md, "Poll" and "Timing and heartbeats").
/// </summary>
public sealed class NetworkDelayTests
{
    [Theory]
    [InlineData(1.0, "", 2.0)]
    [InlineData(1.0, "&elapsed=1", 2.0)]
    [InlineData(1.0, "&elapsed=0.25", 1.25)]
    [InlineData(1.0, "&elapsed=0", 1.0)]
    [InlineData(3.0, "&elapsed=0", 0.0)]
    [InlineData(1.0, "&elapsed=abc", 2.0)]
    public async Task A_poll_is_held_for_half_its_timeout_less_the_expected_delay_never_below_zero(double gap, string elapsed, double hold)
    {
        var clock = new FakeTimeProvider();
        await using var host = await TestHost.StartAsync(new TestHostOptions { TimeProvider = clock }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await client.PollOkAsync("timeout=0");

        // The client spent `elapsed` of the `gap` since the last answer; the network took the rest.
        clock.Advance(TimeSpan.FromSeconds(gap));

        await AssertHeldAsync(host, clock, client, $"timeout=4{elapsed}", TimeSpan.FromSeconds(hold));
    }

    [Theory]
    [InlineData(new[] { 1.0, 3, 2 }, 2.0)]
    [InlineData(new[] { 1.0, 5, 2, 3, 4, 0.5 }, 1.0)]
    [InlineData(new[] { 5.0, 1, 2, 3, 4, 0.5, 0.25 }, 2.0)]
    public async Task The_expected_delay_is_the_largest_of_fewer_than_six_and_the_second_largest_of_the_last_six(double[] delays, double hold)
    {
        var clock = new FakeTimeProvider();
        await using var host = await TestHost.StartAsync(new TestHostOptions { TimeProvider = clock }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await client.PollOkAsync("timeout=0");
        foreach (var delay in delays)
        {
            clock.Advance(TimeSpan.FromSeconds(delay));
            await client.PollOkAsync("timeout=0&elapsed=0");
        }

        await AssertHeldAsync(host, clock, client, "timeout=10", TimeSpan.FromSeconds(hold));
    }

    [Fact]
    public async Task Without_sessions_the_expected_delay_belongs_to_the_user_whichever_client_polls()
    {
        var clock = new FakeTimeProvider();
        await using var host = await TestHost.StartAsync(new TestHostOptions { TimeProvider = clock }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        await host.Dispatcher.RegisterUserAsync("bob").Bounded();
        using var first = host.CreateClient("ann");
        using var second = host.CreateClient("ann");
        using var bob = host.CreateClient("bob");
        await first.PollOkAsync("timeout=0");
        await bob.PollOkAsync("timeout=0");
        clock.Advance(TimeSpan.FromSeconds(1.5));

        await AssertHeldAsync(host, clock, first, "timeout=4&elapsed=0", TimeSpan.FromSeconds(0.5));
        await AssertHeldAsync(host, clock, second, "timeout=4", TimeSpan.FromSeconds(0.5));
        await AssertHeldAsync(host, clock, bob, "timeout=4", TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task With_sessions_the_expected_delay_belongs_to_the_session()
    {
        var clock = new FakeTimeProvider();
        await using var host = await TestHost.StartAsync(new TestHostOptions { TimeProvider = clock, Session = true }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var first = host.CreateClient("ann");
        using var second = host.CreateClient("ann");

        // Each browser has a session of its own once the application writes to it.
        foreach (var client in new[] { first, second })
        {
            using var written = await client.PutAsync(new Uri("/test/session/visited?value=yes", UriKind.Relative), null).Bounded();
            Assert.Equal(HttpStatusCode.NoContent, written.StatusCode);
        }

        await first.PollOkAsync("timeout=0");
        clock.Advance(TimeSpan.FromSeconds(1.5));

        await AssertHeldAsync(host, clock, first, "timeout=4&elapsed=0", TimeSpan.FromSeconds(0.5));
        await AssertHeldAsync(host, clock, second, "timeout=4", TimeSpan.FromSeconds(2));
        await AssertHeldAsync(host, clock, first, "timeout=4", TimeSpan.FromSeconds(0.5));

        Assert.Equal(0, host.Dispatcher.GetNetworkDelayEstimator("ann").MeasurementCount);
    }

    // Polls and checks that the answer, with no events, comes exactly when the clock has moved by `hold`.
    private static async Task AssertHeldAsync(TestHost host, FakeTimeProvider clock, HttpClient client, string query, TimeSpan hold)
    {
        var poll = client.PollAsync(query);
        if (hold > TimeSpan.Zero)
        {
            // A poll counts as waiting once its deadline is on the timer: the clock may move then.
            await host.WaitUntilPollsWaitAsync();
            clock.Advance(hold - TimeSpan.FromMilliseconds(1));
            Assert.False(poll.IsCompleted, $"answered before {hold}");
            Assert.Equal(1, host.Dispatcher.WaitingPollCount);
            clock.Advance(TimeSpan.FromMilliseconds(1));
        }

        using var response = await poll.Bounded();
        var answer = await CometyHttp.ReadAnswerAsync(response);
        Assert.Null(answer.Events);
    }
}
