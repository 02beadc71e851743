using System.Net;
using System.Text.Json;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.PostgreSql;

/// <summary>Two applications on one PostgreSQL log over HTTP: any server answers any poll; 503 while the database is away.</summary>
[Collection(PostgresSuite.Name)]
[Trait("Category", "PostgreSql")]
public sealed class SharedLogHttpTests(PostgresFixture postgres)
{
    // An application on the shared log, once its dispatcher has loaded it (as a load balancer's health check waits for).
    private static async Task<TestHost> StartOnAsync(string connectionString)
    {
        var host = await TestHost.StartAsync(new TestHostOptions
        {
            Antiforgery = false,
            ConfigureServices = services => services.AddCometyPostgreSql(log =>
            {
                log.ConnectionString = connectionString;
                log.FallbackReadInterval = TimeSpan.FromMilliseconds(500);
            }),
        }).WaitAsync(Bound);
        return host;
    }

    private static async Task<(long LastId, List<string> Types)> ReadAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var types = new List<string>();
        if (body.RootElement.GetProperty("events") is { ValueKind: JsonValueKind.Array } events)
        {
            foreach (var e in events.EnumerateArray())
            {
                types.Add(e[1].GetProperty("event").GetString()!);
            }
        }

        return (body.RootElement.GetProperty("lastId").GetInt64(), types);
    }

    [Fact]
    public async Task A_page_rendered_by_one_server_polls_and_subscribes_on_the_other_and_gets_what_a_third_posts()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var first = await StartOnAsync(connectionString);
        await using var second = await StartOnAsync(connectionString);

        // The page was rendered by the first: registered there, at its position.
        await first.Dispatcher.RegisterUserAsync("ann").Bounded();
        var position = first.Dispatcher.LastSequence;
        using var onSecond = second.CreateClient("ann");
        using var onFirst = first.CreateClient("ann");

        // The second has maybe not read the registration yet: the send waits for it, not 403.
        using (var subscribed = await onSecond.SendJsonAsync("""{"type":"subscribe","channel":"room-1"}""").Bounded())
        {
            Assert.Equal(HttpStatusCode.NoContent, subscribed.StatusCode);
        }

        await first.Dispatcher.CatchUpAsync(second.Dispatcher.LastSequence).Bounded();
        await first.Dispatcher.PostToChannelAsync("room-1", "test", Args("one")).Bounded();
        await second.Dispatcher.BroadcastAsync("test", Args("two")).Bounded();

        var types = new List<string>();
        for (var turn = 0; types.Count < 2 && turn < 20; turn++)
        {
            using var response = await (turn % 2 == 0 ? onSecond : onFirst).PollAsync($"timeout=5&confirm={position}").Bounded();
            var (lastId, got) = await ReadAsync(response);
            types.AddRange(got);
            position = lastId;
        }

        Assert.Equal(["one", "two"], types);
    }

    [Fact]
    public async Task A_stream_on_one_server_writes_what_the_other_posts_and_resumes_on_it_from_its_last_event()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var first = await StartOnAsync(connectionString);
        await using var second = await StartOnAsync(connectionString);
        await first.Dispatcher.RegisterUserAsync("ann").Bounded();
        var position = first.Dispatcher.LastSequence;
        using var onSecond = second.CreateClient("ann");
        using var onFirst = first.CreateClient("ann");

        long last;
        var (stream, _) = await EventStreamReader.OpenAsync(onSecond, $"confirm={position}").WaitAsync(Bound);
        await using (stream)
        {
            await first.Dispatcher.BroadcastAsync("test", Args("one")).Bounded();
            await first.Dispatcher.BroadcastAsync("test", Args("two")).Bounded();
            var events = await stream.EventsAsync(2).WaitAsync(Bound);
            Assert.Equal(["one", "two"], events.Select(static e => e.Type));
            last = events[^1].Seq;
        }

        // The stream is cut; the page reconnects to the other server with Last-Event-ID.
        await second.Dispatcher.BroadcastAsync("test", Args("three")).Bounded();
        var (resumed, _) = await EventStreamReader.OpenAsync(onFirst, $"confirm={position}", lastEventId: last.ToString(System.Globalization.CultureInfo.InvariantCulture)).WaitAsync(Bound);
        await using (resumed)
        {
            var rest = await resumed.EventsAsync(1).WaitAsync(Bound);
            Assert.Equal(["three"], rest.Select(static e => e.Type));
        }
    }

    [Fact]
    public async Task A_position_the_store_never_issued_is_answered_409_resynchronise_by_every_server()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var host = await StartOnAsync(connectionString);
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        using var response = await client.PollAsync($"timeout=1&confirm={host.Dispatcher.LastSequence + 1000}").Bounded();
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("resynchronise", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task While_the_database_is_away_a_poll_answers_503_with_a_problem_and_once_it_is_back_the_poll_gets_its_events()
    {
        await using var database = await PostgresServer.StartAsync();
        await using var host = await StartOnAsync(await database.CreateDatabaseAsync());
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        var position = host.Dispatcher.LastSequence;
        using var client = host.CreateClient("ann");

        await database.StopAsync();
        await Assert.ThrowsAsync<EventLogUnavailableException>(() => host.Dispatcher.BroadcastAsync("test", Args("lost")).AsTask()).WaitAsync(Bound);
        using (var refused = await client.PollAsync($"timeout=1&confirm={position}").Bounded())
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Contains("Event log unavailable", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.NotNull(refused.Headers.RetryAfter);
        }

        using (var send = await client.SendJsonAsync("""{"type":"subscribe","channel":"room-1"}""").Bounded())
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, send.StatusCode);
            Assert.Contains("Event log unavailable", await send.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await database.StartAgainAsync();
        await BrowserWait.UntilAsync(() => host.Dispatcher.IsLogAvailable, "the server to reach the database again");
        await host.Dispatcher.BroadcastAsync("test", Args("back")).Bounded();
        using var answered = await client.PollAsync($"timeout=5&confirm={position}").Bounded();
        var (_, types) = await ReadAsync(answered);
        Assert.Equal(["back"], types);
    }
}
