using System.Net;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Http;

/// <summary>The 400 answers to polls whose <c>timeout</c> or <c>confirm</c> is missing or invalid.</summary>
public sealed class PollValidationTests
{
    [Theory]
    [InlineData("")]
    [InlineData("confirm=0")]
    [InlineData("timeout=")]
    [InlineData("timeout=abc")]
    [InlineData("timeout=NaN")]
    [InlineData("timeout=Infinity")]
    [InlineData("timeout=-Infinity")]
    [InlineData("timeout=-1")]
    [InlineData("timeout=-0.001")]
    [InlineData("timeout=300.001")]
    [InlineData("timeout=301")]
    [InlineData("timeout=1e3")]
    [InlineData("timeout=1e1")]
    [InlineData("timeout=0x10")]
    [InlineData("timeout=1,5")]
    [InlineData("timeout=%201")]
    [InlineData("timeout=1&timeout=2")]
    public async Task A_poll_without_a_finite_decimal_timeout_from_0_to_MaxClientTimeout_is_400(string query)
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        using var response = await client.PollAsync(query).Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("'timeout'", problem.Detail(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("x")]
    public async Task A_long_invalid_timeout_is_not_echoed_in_full(string digit)
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        var timeout = new string(digit[0], 2000);

        using var response = await client.PollAsync($"timeout={timeout}").Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.DoesNotContain(timeout[..100], problem.Detail(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxClientTimeout_bounds_the_timeout()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Configure = o => o.MaxClientTimeout = TimeSpan.FromSeconds(20) }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await host.Dispatcher.BroadcastAsync("Chat", Args("message")).Bounded();

        using var above = await client.PollAsync("timeout=20.5").Bounded();
        var problem = await above.AssertProblemAsync(HttpStatusCode.BadRequest);
        var answer = await client.PollOkAsync("timeout=20");

        Assert.Contains("between 0 and 20 seconds", problem.Detail(), StringComparison.Ordinal);
        Assert.Equal([1L], answer.Sequences);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("1.5")]
    [InlineData("1.0")]
    [InlineData("1e0")]
    [InlineData("0x1")]
    [InlineData("-1")]
    [InlineData("9223372036854775808")]
    [InlineData("1&confirm=1")]
    public async Task A_confirm_that_is_not_a_non_negative_integer_is_400(string confirm)
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await host.Dispatcher.BroadcastAsync("Chat", Args("message")).Bounded();

        using var response = await client.PollAsync($"timeout=0&confirm={confirm}").Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("'confirm'", problem.Detail(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_confirm_beyond_the_last_sequence_number_issued_is_409_as_after_a_restart_and_changes_nothing()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await host.Dispatcher.BroadcastAsync("Chat", Args("one")).Bounded();
        await host.Dispatcher.BroadcastAsync("Chat", Args("two")).Bounded();

        using var beyond = await client.PollAsync("timeout=0&confirm=3").Bounded();
        var problem = await beyond.AssertProblemAsync(HttpStatusCode.Conflict);
        var unchanged = await client.PollOkAsync("timeout=0");
        var atTheLast = await client.PollOkAsync("timeout=0&confirm=2");

        Assert.Contains("last sequence number this server issued, 2", problem.Detail(), StringComparison.Ordinal);
        Assert.Equal("Resynchronise", problem.Title());
        Assert.Equal([1L, 2], unchanged.Sequences);
        Assert.Null(atTheLast.Events);
    }

    [Theory]
    [InlineData("TIMEOUT=0&Confirm=1")]
    [InlineData("time%6Fut=0&c%6Fnfirm=%31")]
    [InlineData("_=1700000000000&timeout=0.0&confirm=1&elapsed=0%2E5")]
    public async Task Parameter_names_are_case_insensitive_and_names_and_values_URL_decoded(string query)
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await host.Dispatcher.BroadcastAsync("Chat", Args("one")).Bounded();
        await host.Dispatcher.BroadcastAsync("Chat", Args("two")).Bounded();

        var answer = await client.PollOkAsync(query);

        // Answered at once (timeout 0) with event 2 only: event 1 was confirmed.
        Assert.Equal([2L], answer.Sequences);
    }

    [Theory]
    [InlineData("timeout=0&confirm=1&CONFIRM=1")]
    [InlineData("timeout=0&timeout")]
    public async Task A_parameter_given_twice_in_any_spelling_is_400(string query)
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await host.Dispatcher.BroadcastAsync("Chat", Args("one")).Bounded();

        using var response = await client.PollAsync(query).Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("more than once", problem.Detail(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Confirm_0_is_valid_before_any_event_is_issued()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        var answer = await client.PollOkAsync("timeout=0&confirm=0");

        Assert.Null(answer.Events);
        Assert.Equal(0, answer.LastId);
    }
}
