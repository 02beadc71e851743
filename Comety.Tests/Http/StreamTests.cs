using System.Net;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using Comety.Tests.Infrastructure.TestApp;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Time.Testing;

namespace Comety.Tests.Http;

/// <summary>
/// Streams (PROTOCOL.md, version 2): a GET that asks for <c>text/event-stream</c> gets the user's
/// events as Server-Sent Events on one response, from the position in <c>Last-Event-ID</c> or
/// <c>confirm</c>, with keep-alives, a bounded life and the version 1 statuses before it starts.
/// </summary>
public sealed class StreamTests
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_get_that_accepts_event_streams_gets_a_stream_that_opens_at_once_with_what_the_client_may_count_on()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        var (stream, opening) = await EventStreamReader.OpenAsync(client, "confirm=0");
        await using var _ = stream;

        Assert.True(stream.Response.IsNoStore());
        Assert.Equal(["no"], stream.Response.Headers.GetValues("X-Accel-Buffering"));
        Assert.Null(stream.Response.Content.Headers.ContentLength);
        Assert.Equal("1000", opening.Retry);
        Assert.Equal(15, opening.Json.GetProperty("keepAlive").GetDouble());
        Assert.Equal(60, opening.Json.GetProperty("maxDuration").GetDouble());
    }

    [Theory]
    [InlineData("application/json, text/javascript, */*; q=0.01")]
    [InlineData("*/*")]
    [InlineData("text/event-stream; q=0, application/json")]
    public async Task A_get_that_does_not_ask_for_an_event_stream_is_a_version_1_poll(string accept)
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        using var response = await EventStreamReader.RequestAsync(client, "timeout=0", accept: accept);
        var answer = await CometyHttp.ReadAnswerAsync(response);

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, answer.LastId);
    }

    [Theory]
    [InlineData("text/event-stream")]
    [InlineData("application/json;q=0.5, TEXT/EVENT-STREAM")]
    public async Task Events_posted_before_and_after_the_stream_opens_come_once_in_order_with_their_sequence_as_id(string accept)
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        var before = new[] { await Post(host, "one"), await Post(host, "two") };
        using var client = host.CreateClient("ann");

        var (stream, _) = await EventStreamReader.OpenAsync(client, "confirm=0", accept: accept);
        await using var __ = stream;
        var first = await stream.EventsAsync(2);
        await host.WaitUntilPollsWaitAsync();
        var after = new[] { await Post(host, "three"), await Post(host, "four") };
        var second = await stream.EventsAsync(2);

        Assert.Equal(before.Concat(after), first.Concat(second).Select(e => e.Seq));
        Assert.Equal(["one", "two", "three", "four"], first.Concat(second).Select(e => e.Args.GetProperty("text").GetString()));
        Assert.All(first.Concat(second), e => Assert.Equal("test", e.Sender.GetString()));
    }

    [Fact]
    public async Task Last_event_id_takes_precedence_over_confirm()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        var one = await Post(host, "one");
        var two = await Post(host, "two");
        var three = await Post(host, "three");
        using var client = host.CreateClient("ann");

        var (stream, _) = await EventStreamReader.OpenAsync(client, "confirm=0", lastEventId: two.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await using var __ = stream;
        var events = await stream.EventsAsync(1);

        Assert.True(one < two);
        Assert.Equal([three], events.Select(e => e.Seq));
    }

    [Fact]
    public async Task An_empty_last_event_id_counts_as_absent_and_confirm_applies()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        var one = await Post(host, "one");
        var two = await Post(host, "two");
        using var client = host.CreateClient("ann");

        var (stream, _) = await EventStreamReader.OpenAsync(client, $"confirm={one}", lastEventId: "");
        await using var __ = stream;

        Assert.Equal([two], (await stream.EventsAsync(1)).Select(e => e.Seq));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("+3")]
    [InlineData("99999999999999999999")]
    public async Task A_bad_last_event_id_is_400_with_a_message_that_names_it(string lastEventId)
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        using var response = await EventStreamReader.RequestAsync(client, lastEventId: lastEventId);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains("Last-Event-ID", problem.Detail(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_streams_timeout_is_optional_but_checked_when_given()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        var (stream, _) = await EventStreamReader.OpenAsync(client);
        await stream.DisposeAsync();
        using var invalid = await EventStreamReader.RequestAsync(client, "timeout=soon");

        var problem = await invalid.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("'timeout'", problem.Detail(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Before_the_stream_starts_every_error_is_the_version_1_status_and_problem()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Configure = comety => comety.MaxPollsPerUser = 1 }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var nobody = host.CreateClient();
        using var stranger = host.CreateClient("bob");
        using var ann = host.CreateClient("ann");

        using var noUser = await EventStreamReader.RequestAsync(nobody);
        using var notRegistered = await EventStreamReader.RequestAsync(stranger);
        using var beyond = await EventStreamReader.RequestAsync(ann, lastEventId: "5");
        using var waiting = await EventStreamReader.RequestAsync(ann, "timeout=30");
        await host.WaitUntilPollsWaitAsync();
        using var tooMany = await EventStreamReader.RequestAsync(ann);

        Assert.Equal("no-user", (await noUser.AssertProblemAsync(HttpStatusCode.Forbidden)).GetProperty("reason").GetString());
        Assert.Equal("not-registered", (await notRegistered.AssertProblemAsync(HttpStatusCode.Forbidden)).GetProperty("reason").GetString());
        Assert.Equal("resynchronise", (await beyond.AssertProblemAsync(HttpStatusCode.Conflict)).GetProperty("reason").GetString());
        await tooMany.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal("1", tooMany.Headers.RetryAfter?.ToString());
    }

    [Fact]
    public async Task After_a_keep_alive_interval_of_silence_the_server_writes_a_comment()
    {
        var clock = new FakeTimeProvider();
        await using var host = await TestHost.StartAsync(new TestHostOptions { TimeProvider = clock }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        var (stream, _) = await EventStreamReader.OpenAsync(client, "confirm=0");
        await using var __ = stream;

        await host.WaitUntilPollsWaitAsync();
        clock.Advance(KeepAlive - TimeSpan.FromSeconds(1));
        var sequence = await Post(host, "before the keep-alive");
        var events = await stream.EventsAsync(1);
        await host.WaitUntilPollsWaitAsync();
        clock.Advance(KeepAlive);
        var comment = await stream.NextAsync();

        Assert.Equal([sequence], events.Select(e => e.Seq));
        Assert.True(comment!.IsComment, $"Expected a comment, got event '{comment.Event}' data '{comment.Data}'.");
    }

    [Fact]
    public async Task After_its_duration_the_stream_ends_with_its_last_id_and_the_next_one_resumes_with_nothing_lost_or_repeated()
    {
        var clock = new FakeTimeProvider();
        await using var host = await TestHost.StartAsync(new TestHostOptions { TimeProvider = clock }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        await host.Dispatcher.RegisterUserAsync("bob").Bounded();
        using var client = host.CreateClient("ann");
        var (stream, _) = await EventStreamReader.OpenAsync(client, "confirm=0");
        var mine = await Post(host, "for ann");
        var received = await stream.EventsAsync(1);

        // Another user's event: the end accounts for it, as a poll's lastId would.
        await host.WaitUntilPollsWaitAsync();
        var others = await host.Dispatcher.PostToUserAsync("bob", "test", new Dictionary<string, object?> { ["event"] = "message", ["text"] = "for bob" }).Bounded();
        var messages = new List<StreamMessage>();
        for (var i = 0; i < 4; i++)
        {
            await host.WaitUntilPollsWaitAsync();
            clock.Advance(KeepAlive);
            messages.Add((await stream.NextAsync())!);
        }

        var completed = await stream.NextAsync();
        await stream.DisposeAsync();
        var missed = await Post(host, "between the streams");
        var end = messages[^1];
        var (next, _) = await EventStreamReader.OpenAsync(client, lastEventId: end.Id);
        await using var __ = next;
        var resumed = await next.EventsAsync(1);

        Assert.Equal([mine], received.Select(e => e.Seq));
        Assert.All(messages[..3], m => Assert.True(m.IsComment));
        Assert.Equal("comety-end", end.Event);
        Assert.Equal(others, end.Json.GetProperty("lastId").GetInt64());
        Assert.Equal(others!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), end.Id);
        Assert.Null(completed);
        Assert.Equal([missed], resumed.Select(e => e.Seq));
    }

    [Fact]
    public async Task A_stream_cut_with_events_in_flight_resumes_from_the_last_event_its_client_received_with_nothing_lost()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        var (stream, _) = await EventStreamReader.OpenAsync(client, "confirm=0");
        await host.WaitUntilPollsWaitAsync();
        var one = await Post(host, "one");
        var two = await Post(host, "two");

        // The server wrote both; the client read both, but handled only the first when the
        // connection broke, and resumes from it.
        var written = await stream.EventsAsync(2);
        await stream.DisposeAsync();
        await CometyHttp.WaitUntilAsync(() => host.Logged("StreamAbandoned", "ann"), "the server sees the stream closed");
        var (next, _) = await EventStreamReader.OpenAsync(client, lastEventId: one.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await using var __ = next;
        var resumed = await next.EventsAsync(1);

        Assert.Equal([one, two], written.Select(e => e.Seq));
        Assert.Equal([two], resumed.Select(e => e.Seq));
    }

    [Fact]
    public async Task Streams_opened_together_end_at_different_times_in_the_last_fifth_of_their_duration()
    {
        // A keep-alive every second: each second, every open stream writes a comment or its end.
        var clock = new FakeTimeProvider();
        await using var host = await TestHost.StartAsync(new TestHostOptions
        {
            TimeProvider = clock,
            HeartbeatTimeout = TimeSpan.FromMinutes(5),
            Configure = comety => comety.StreamKeepAliveInterval = TimeSpan.FromSeconds(1),
        }).Bounded();
        var open = new List<EventStreamReader>();
        var clients = new List<HttpClient>();
        for (var i = 0; i < 10; i++)
        {
            await host.Dispatcher.RegisterUserAsync($"user{i}").Bounded();
            clients.Add(host.CreateClient($"user{i}"));
            open.Add((await EventStreamReader.OpenAsync(clients[^1])).Reader);
        }

        var endedAt = new List<int>();
        for (var second = 1; second <= 60 && open.Count > 0; second++)
        {
            await host.WaitUntilPollsWaitAsync(open.Count);
            clock.Advance(TimeSpan.FromSeconds(1));
            foreach (var stream in open.ToList())
            {
                var message = await stream.NextAsync();
                if (!message!.IsComment)
                {
                    Assert.Equal("comety-end", message.Event);
                    endedAt.Add(second);
                    open.Remove(stream);
                    await stream.DisposeAsync();
                }
            }
        }

        clients.ForEach(c => c.Dispose());
        Assert.Empty(open);
        Assert.All(endedAt, second => Assert.InRange(second, 48, 60));
        Assert.True(endedAt.Distinct().Count() > 1, $"All ten ended at {endedAt[0]} s.");
    }

    [Fact]
    public async Task An_open_stream_counts_as_polling_for_the_heartbeat_and_the_heartbeat_starts_when_it_ends()
    {
        var clock = new FakeTimeProvider();
        await using var host = await TestHost.StartAsync(new TestHostOptions
        {
            TimeProvider = clock,
            HeartbeatTimeout = TimeSpan.FromSeconds(2),
            Configure = comety =>
            {
                comety.StreamDuration = TimeSpan.FromSeconds(300);
                comety.StreamKeepAliveInterval = TimeSpan.FromSeconds(5);
            },
        }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        var (stream, _) = await EventStreamReader.OpenAsync(client);

        // Far past a heartbeat timeout, and past the five more of an unmeasured delay.
        for (var i = 0; i < 6; i++)
        {
            await host.WaitUntilPollsWaitAsync();
            clock.Advance(TimeSpan.FromSeconds(5));
            Assert.True((await stream.NextAsync())!.IsComment);
        }

        var registeredWhileStreaming = host.Dispatcher.IsRegistered("ann");
        await stream.DisposeAsync();
        await CometyHttp.WaitUntilAsync(() => host.Logged("StreamAbandoned", "ann"), "the server sees the stream closed");
        clock.Advance(TimeSpan.FromSeconds(13));

        Assert.True(registeredWhileStreaming);
        await CometyHttp.WaitUntilAsync(() => !host.Dispatcher.IsRegistered("ann"), "ann times out once the stream is gone");
    }

    [Theory]
    [InlineData("unregistered", 403, "not-registered")]
    [InlineData("stopping", 503, null)]
    public async Task A_problem_while_the_stream_is_open_ends_it_with_a_problem_message_and_the_status_a_poll_would_get(string what, int status, string? reason)
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        var (stream, _) = await EventStreamReader.OpenAsync(client);
        await using var __ = stream;

        await host.WaitUntilPollsWaitAsync();
        if (what == "unregistered")
        {
            await host.Dispatcher.UnregisterUserAsync("ann").Bounded();
        }
        else
        {
            host.Dispatcher.StopPolling();
        }

        var problem = await stream.NextAsync();
        var completed = await stream.NextAsync();

        Assert.Equal("comety-problem", problem!.Event);
        Assert.Equal(status, problem.Json.GetProperty("status").GetInt32());
        Assert.Equal(reason, problem.Json.TryGetProperty("reason", out var given) ? given.GetString() : null);
        Assert.Null(completed);
    }

    [Fact]
    public async Task A_stream_that_falls_more_than_the_backlog_behind_its_unread_events_ends_with_a_resynchronise_problem_after_an_unbroken_prefix()
    {
        // The client reads nothing while far more is posted than the transport buffers hold: the
        // stream waits on its flush, at its position, and the inbox (5 events at most) lets go.
        await using var host = await TestHost.StartAsync(new TestHostOptions { MaxBacklog = 5 }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        var (stream, _) = await EventStreamReader.OpenAsync(client, "confirm=0");
        await using var __ = stream;
        await host.WaitUntilPollsWaitAsync();
        var text = new string('x', 64 * 1024);
        var posted = new List<long>();
        for (var i = 0; i < 400; i++)
        {
            posted.Add(await Post(host, text));
        }

        var received = new List<long>();
        StreamMessage? message;
        while ((message = await stream.NextAsync()) is { Event: null })
        {
            received.Add(message.AsEvent().Seq);
        }

        Assert.Equal("comety-problem", message!.Event);
        Assert.Equal(409, message.Json.GetProperty("status").GetInt32());
        Assert.Equal("resynchronise", message.Json.GetProperty("reason").GetString());
        Assert.InRange(received.Count, 0, posted.Count - 6);
        Assert.Equal(posted.Take(received.Count), received);
        Assert.Null(await stream.NextAsync());
    }

    [Fact]
    public async Task A_stream_of_a_mapped_updates_URL_delivers_the_same()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions
        {
            ConfigureApp = app => app.MapComety<TestUpdatesController>("lean/updates"),
        }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        var (stream, _) = await EventStreamReader.OpenAsync(client, "confirm=0", url: "/lean/updates");
        await using var __ = stream;

        await host.WaitUntilPollsWaitAsync();
        var sequence = await Post(host, "hello");

        Assert.Equal([sequence], (await stream.EventsAsync(1)).Select(e => e.Seq));
    }

    [Fact]
    public async Task Every_stream_and_poll_carries_the_same_bytes_of_an_event()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        await host.Dispatcher.RegisterUserAsync("bob").Bounded();
        await host.Dispatcher.RegisterUserAsync("cy").Bounded();
        using var ann = host.CreateClient("ann");
        using var bob = host.CreateClient("bob");
        using var cy = host.CreateClient("cy");
        var (first, _) = await EventStreamReader.OpenAsync(ann, "confirm=0");
        var (second, _) = await EventStreamReader.OpenAsync(bob, "confirm=0");
        await using var __ = first;
        await using var ___ = second;

        await host.WaitUntilPollsWaitAsync(2);
        await host.Dispatcher.BroadcastAsync(new[] { "a", "b" }, new Dictionary<string, object?> { ["event"] = "message", ["text"] = "é \" \n" }).Bounded();
        var one = await first.NextAsync();
        var two = await second.NextAsync();
        var polled = await cy.GetStringAsync(new Uri($"{CometyHttp.UpdatesUrl}?timeout=0&confirm=0", UriKind.Relative)).Bounded();

        Assert.Equal(one!.Data, two!.Data);
        Assert.Contains(one.Data!, polled, StringComparison.Ordinal);
    }

    private static async Task<long> Post(TestHost host, string text) =>
        (await host.Dispatcher.BroadcastAsync("test", new Dictionary<string, object?> { ["event"] = "message", ["text"] = text }).Bounded())!.Value;
}
