using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.DependencyInjection;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Http;

/// <summary>What a 200 answer to a poll holds, and how confirming moves a user's window (PROTOCOL.md, "Poll").</summary>
public sealed class PollTests
{
    [Fact]
    public async Task A_poll_answers_json_that_is_not_stored_with_null_events_when_none_arrive()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        using var response = await client.PollAsync("timeout=0").Bounded();
        var body = await response.Content.ReadAsStringAsync().Bounded();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.True(response.IsNoStore(), $"Cache-Control: {response.Headers.CacheControl}");
        Assert.Equal("""{"lastId":0,"events":null}""", body);
    }

    [Fact]
    public async Task An_answer_carries_its_length_rather_than_chunked_framing_also_when_it_follows_a_larger_one()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        // About 10 KB: under the size a thread keeps its buffer at, so a smaller answer may reuse it.
        for (var i = 0; i < 10; i++)
        {
            await host.Dispatcher.BroadcastAsync("Chat", Args("message", ("text", new string('x', 1000)))).Bounded();
        }

        using var large = await client.PollAsync("timeout=0").Bounded();
        var largeBody = await large.Content.ReadAsByteArrayAsync().Bounded();
        using var small = await client.PollAsync("timeout=0&confirm=10").Bounded();
        var smallBody = await small.Content.ReadAsByteArrayAsync().Bounded();

        Assert.Equal(10, JsonDocument.Parse(largeBody).RootElement.GetProperty("events").GetArrayLength());
        Assert.Equal(largeBody.Length, large.Content.Headers.ContentLength);
        Assert.NotEqual(true, large.Headers.TransferEncodingChunked);
        Assert.Equal("""{"lastId":10,"events":null}"""u8.ToArray(), smallBody);
        Assert.Equal(smallBody.Length, small.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task A_poll_that_waits_in_vain_answers_null_events_after_its_hold()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        var waited = Stopwatch.StartNew();

        var answer = await client.PollOkAsync("timeout=0.4");

        // The server holds timeout * 0.5 = 0.2 s; a lower bound only, as the machine may be slow.
        Assert.True(waited.Elapsed >= TimeSpan.FromSeconds(0.15), $"answered after {waited.Elapsed}");
        Assert.Null(answer.Events);
        Assert.Equal(0, answer.LastId);
    }

    [Fact]
    public async Task Events_are_sender_args_seq_arrays_in_ascending_order()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        var dispatcher = host.Dispatcher;
        await dispatcher.RegisterUserAsync("ann").Bounded();
        await dispatcher.SubscribeAsync("ann", "room-1").Bounded();
        using var client = host.CreateClient("ann");

        var posted = new List<long>
        {
            (await dispatcher.BroadcastAsync("Chat", Args("message", ("text", "hi"))).Bounded())!.Value,
            (await dispatcher.PostToChannelAsync("room-1", 42, Args("moved", ("to", 3))).Bounded())!.Value,
            (await dispatcher.BroadcastAsync(new object[] { "game", 7 }, Args("turn")).Bounded())!.Value,
            (await dispatcher.BroadcastAsync(new Dictionary<string, object?> { ["room"] = "room-1" }, Args("joined")).Bounded())!.Value,
            (await dispatcher.PostToUserAsync("ann", null, Args("private")).Bounded())!.Value,
        };

        var answer = await client.PollOkAsync("timeout=10");

        Assert.Equal(posted, answer.Sequences);
        Assert.Equal(posted.Order(), answer.Sequences);
        Assert.Equal(["message", "moved", "turn", "joined", "private"], answer.Types);
        var events = answer.Events!;
        Assert.Equal("Chat", events[0].Sender.GetString());
        Assert.Equal("hi", events[0].Args.GetProperty("text").GetString());
        Assert.Null(events[0].Channel);
        Assert.Equal(42, events[1].Sender.GetInt32());
        Assert.Equal("room-1", events[1].Channel);
        Assert.Equal("""["game",7]""", events[2].Sender.GetRawText());
        Assert.Equal("""{"room":"room-1"}""", events[3].Sender.GetRawText());
        Assert.Equal(JsonValueKind.Null, events[4].Sender.ValueKind);
        Assert.Equal(posted[^1], answer.LastId);
    }

    [Fact]
    public async Task With_events_lastId_accounts_for_other_channels_events_between_and_after_them()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        var dispatcher = host.Dispatcher;
        await dispatcher.RegisterUserAsync("ann").Bounded();
        await dispatcher.RegisterUserAsync("bob").Bounded();
        await dispatcher.SubscribeAsync("ann", "room-1").Bounded();
        await dispatcher.SubscribeAsync("bob", "room-2").Bounded();
        using var ann = host.CreateClient("ann");

        var first = await dispatcher.PostToChannelAsync("room-1", "Chat", Args("message")).Bounded();
        await dispatcher.PostToChannelAsync("room-2", "Chat", Args("message")).Bounded();
        var third = await dispatcher.PostToChannelAsync("room-1", "Chat", Args("message")).Bounded();
        var fourth = await dispatcher.PostToChannelAsync("room-2", "Chat", Args("message")).Bounded();

        var answer = await ann.PollOkAsync("timeout=10");
        Assert.Equal([first!.Value, third!.Value], answer.Sequences);
        Assert.Equal(fourth, answer.LastId);

        // Confirming lastId skips room-2's events too: the next event for ann is the next poll's only one.
        var fifth = await dispatcher.PostToChannelAsync("room-1", "Chat", Args("message")).Bounded();
        var next = await ann.PollOkAsync($"timeout=10&confirm={answer.LastId}");
        Assert.Equal([fifth!.Value], next.Sequences);
        Assert.Equal(fifth, next.LastId);
    }

    [Fact]
    public async Task Without_events_lastId_is_the_first_sequence_number_still_to_come_minus_one()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        var dispatcher = host.Dispatcher;
        await dispatcher.RegisterUserAsync("ann").Bounded();
        await dispatcher.RegisterUserAsync("bob").Bounded();
        await dispatcher.SubscribeAsync("bob", "room-2").Bounded();
        using var ann = host.CreateClient("ann");
        await dispatcher.PostToChannelAsync("room-2", "Chat", Args("message")).Bounded();
        await dispatcher.PostToChannelAsync("room-2", "Chat", Args("message")).Bounded();

        var answer = await ann.PollOkAsync("timeout=0");
        var next = await dispatcher.BroadcastAsync("Chat", Args("message")).Bounded();

        Assert.Null(answer.Events);
        Assert.Equal(2, answer.LastId);
        Assert.Equal(answer.LastId + 1, next);
        var after = await ann.PollOkAsync($"timeout=10&confirm={answer.LastId}");
        Assert.Equal([next!.Value], after.Sequences);
    }

    [Fact]
    public async Task A_page_is_never_sent_an_event_it_confirmed_and_another_page_still_gets_it()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await host.Dispatcher.BroadcastAsync("Chat", Args("one")).Bounded();
        await host.Dispatcher.BroadcastAsync("Chat", Args("two")).Bounded();

        var first = await client.PollOkAsync("timeout=10");
        var again = await client.PollOkAsync("timeout=10");
        var confirmed = await client.PollOkAsync($"timeout=0&confirm={first.LastId}");
        var later = await client.PollOkAsync($"timeout=0&confirm={confirmed.LastId}");
        var otherPage = await client.PollOkAsync("timeout=0&confirm=0");

        Assert.Equal([1L, 2], first.Sequences);
        Assert.Equal([1L, 2], again.Sequences);
        Assert.Null(confirmed.Events);
        Assert.Equal(2, confirmed.LastId);
        Assert.Null(later.Events);
        Assert.Equal([1L, 2], otherPage.Sequences);
    }

    [Fact]
    public async Task Confirming_the_seq_of_the_last_consumed_event_redelivers_the_rest_of_the_batch()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        for (var i = 0; i < 3; i++)
        {
            await host.Dispatcher.BroadcastAsync("Chat", Args("message", ("n", i))).Bounded();
        }

        var batch = await client.PollOkAsync("timeout=10");
        var rest = await client.PollOkAsync($"timeout=10&confirm={batch.Events![0].Seq}");
        var last = await client.PollOkAsync($"timeout=10&confirm={rest.Events![0].Seq}");

        Assert.Equal([1L, 2, 3], batch.Sequences);
        Assert.Equal([2L, 3], rest.Sequences);
        Assert.Equal([3L], last.Sequences);
        Assert.Equal(3, last.LastId);
    }

    [Fact]
    public async Task A_waiting_poll_answers_promptly_when_an_event_is_posted()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        // Held for up to 30 s; the bound of the await below is 10 s.
        var poll = client.PollAsync("timeout=60");
        await host.WaitUntilPollsWaitAsync();
        var seq = await host.Dispatcher.PostToUserAsync("ann", "Chat", Args("wake")).Bounded();
        using var response = await poll.Bounded();
        var answer = await CometyHttp.ReadAnswerAsync(response);

        Assert.Equal([seq!.Value], answer.Sequences);
        Assert.Equal(["wake"], answer.Types);
    }

    [Fact]
    public async Task A_poll_the_client_abandons_loses_nothing_a_new_poll_with_the_same_confirm_gets_the_events()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await host.Dispatcher.BroadcastAsync("Chat", Args("seen")).Bounded();
        var seen = await client.PollOkAsync("timeout=10");

        using (var abort = new CancellationTokenSource())
        {
            var poll = client.PollAsync($"timeout=60&confirm={seen.LastId}", abort.Token);
            await host.WaitUntilPollsWaitAsync();
            await abort.CancelAsync().Bounded();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => poll.Bounded());
        }

        await host.WaitUntilPollsWaitAsync(0);
        await CometyHttp.WaitUntilAsync(() => host.Logged("PollAbandoned", "'ann'"), "the abandoned poll is logged");
        var meanwhile = new[]
        {
            (await host.Dispatcher.BroadcastAsync("Chat", Args("one")).Bounded())!.Value,
            (await host.Dispatcher.BroadcastAsync("Chat", Args("two")).Bounded())!.Value,
        };

        var answer = await client.PollOkAsync($"timeout=60&confirm={seen.LastId}");

        Assert.Equal(meanwhile, answer.Sequences);
        Assert.True(host.Dispatcher.IsRegistered("ann"));
    }

    [Fact]
    public async Task A_poll_is_exempt_from_the_applications_request_timeout()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions
        {
            ConfigureServices = services => services.AddRequestTimeouts(o => o.DefaultPolicy = new RequestTimeoutPolicy { Timeout = TimeSpan.FromMilliseconds(100) }),
            ConfigureApp = app =>
            {
                app.UseRequestTimeouts();
                app.MapGet("/test/slow", (HttpContext context) => Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted));
            },
        }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        using var slow = await client.GetAsync(new Uri("/test/slow", UriKind.Relative)).Bounded();
        var answer = await client.PollOkAsync("timeout=1");

        // The timeout is in force (504), yet a poll held five times as long answers 200.
        Assert.Equal(HttpStatusCode.GatewayTimeout, slow.StatusCode);
        Assert.Null(answer.Events);
    }

    [Fact]
    public async Task Unknown_parameters_such_as_jQuerys_cache_buster_are_ignored()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await host.Dispatcher.BroadcastAsync("Chat", Args("message")).Bounded();

        var answer = await client.PollOkAsync("_=1700000000000&timeout=10&confirm=0&user=bob&callback=x");

        Assert.Equal([1L], answer.Sequences);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0.5")]
    [InlineData("12.25")]
    [InlineData("300")]
    public async Task A_finite_decimal_timeout_from_0_to_MaxClientTimeout_is_valid(string timeout)
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await host.Dispatcher.BroadcastAsync("Chat", Args("message")).Bounded();

        var answer = await client.PollOkAsync($"timeout={timeout}");

        Assert.Equal([1L], answer.Sequences);
    }

    [Theory]
    [InlineData("elapsed=abc", "'abc'")]
    [InlineData("elapsed=-1", "'-1'")]
    [InlineData("elapsed=NaN", "'NaN'")]
    [InlineData("elapsed=Infinity", "'Infinity'")]
    [InlineData("elapsed=1e3", "'1e3'")]
    [InlineData("elapsed=", "''")]
    [InlineData("elapsed=1&elapsed=2", "more than once")]
    public async Task An_invalid_elapsed_is_ignored_and_logged_never_an_error(string elapsed, string logged)
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await host.Dispatcher.BroadcastAsync("Chat", Args("message")).Bounded();

        var answer = await client.PollOkAsync($"timeout=10&{elapsed}");

        Assert.Equal([1L], answer.Sequences);
        Assert.True(host.Logged("InvalidElapsedIgnored", logged), string.Join(Environment.NewLine, host.Logs.Entries.Select(e => e.Message)));
        Assert.True(host.Logged("InvalidElapsedIgnored", "'ann'"));
    }

    [Fact]
    public async Task A_valid_elapsed_is_not_reported_as_invalid()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        await client.PollOkAsync("timeout=0");
        var answer = await client.PollOkAsync("timeout=0&elapsed=0.25");

        Assert.Null(answer.Events);
        Assert.False(host.Logged("InvalidElapsedIgnored"));
    }
}
