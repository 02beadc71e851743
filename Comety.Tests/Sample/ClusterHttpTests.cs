using System.Diagnostics;
using System.Net;
using Comety.Tests.Infrastructure;
using Comety.Tests.Sample.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Comety.Tests.Sample;

/// <summary>
/// The sample chat on a cluster (two instances on one PostgreSQL database, the round-robin load
/// balancer in front), driven over HTTP without a browser: an instance is killed in the middle of
/// a stream of lines and started again, and the page that polls through the load balancer meanwhile
/// receives every line the database holds, once each and in order.
/// </summary>
[Collection(PostgresSuite.Name)]
[Trait("Category", "Sample")]
public sealed class ClusterHttpTests(PostgresFixture postgres, ITestOutputHelper output)
{
    // Long enough that the person who only sends never times out during the test.
    private static readonly Dictionary<string, string> Settings = new() { ["Comety:HeartbeatTimeout"] = "00:01:00" };

    [Fact]
    public async Task A_page_polling_through_the_load_balancer_gets_every_line_once_and_in_order_while_an_instance_is_killed_and_restarted()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var cluster = await ChatCluster.StartAsync(database, count: 2, Settings);
        using var ann = new ChatClient(cluster.Proxy.BaseAddress);
        using var bob = new ChatClient(cluster.Proxy.BaseAddress);
        var room = await ann.CreateRoomAsync(ChatPage.NewRoomName("Cluster"));
        await ann.JoinAsync(room, "Ann");
        var position = await bob.JoinAsync(room, "Bob");

        // Bob's page: polls through the load balancer from its position, as comety.js does, and
        // keeps it through every failed poll (a killed instance answers nothing; the proxy says 502).
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var arrivals = new Dictionary<string, TimeSpan>();
        var received = new List<(long Sequence, string Kind, string? Text)>();
        var failedPolls = 0;
        var poller = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var (status, lastId, events) = await bob.PollAsync(position, timeoutSeconds: 4, stop.Token).WaitAsync(TimeSpan.FromSeconds(10));
                if (status != HttpStatusCode.OK)
                {
                    failedPolls++;
                    await Task.Delay(100);
                    continue;
                }

                lock (received)
                {
                    foreach (var (sequence, args) in events)
                    {
                        if (args.GetProperty("channel").GetString() == "room:" + room)
                        {
                            received.Add((sequence, args.GetProperty("event").GetString()!, args.TryGetProperty("text", out var t) ? t.GetString() : null));
                            arrivals.TryAdd(t.ValueKind == System.Text.Json.JsonValueKind.String ? t.GetString()! : string.Empty, clock.Elapsed);
                        }
                    }
                }

                position = lastId;
            }
        });

        // Ann says line after line; a second in, instance 0 is killed, then started again, and
        // she goes on until a while after it is back.
        var statuses = new List<(string Text, HttpStatusCode Status, TimeSpan SentAt)>();
        Task? kill = null;
        Task? restart = null;
        TimeSpan killedAt = default, restartedAt = default;
        for (var i = 1; restart is null || !restart.IsCompleted || clock.Elapsed < restartedAt + TimeSpan.FromSeconds(1.5); i++)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), "The lines took too long:" + Environment.NewLine + cluster.LastOutput(20));
            var text = $"line {i}";
            var sentAt = clock.Elapsed;
            statuses.Add((text, await ann.SayAsync(text), sentAt));
            if (kill is null && clock.Elapsed > TimeSpan.FromSeconds(1))
            {
                killedAt = clock.Elapsed;
                kill = cluster.KillAsync(0);
                restart = kill.ContinueWith(async _ =>
                {
                    await cluster.RestartAsync(0);
                    restartedAt = clock.Elapsed;
                }, TaskScheduler.Default).Unwrap();
            }

            await Task.Delay(10);
        }

        await restart!;
        output.WriteLine($"{statuses.Count} lines said; instance 0 killed at {killedAt.TotalSeconds:F1} s, listening again at {restartedAt.TotalSeconds:F1} s");
        output.WriteLine($"answers to the sends: {string.Join(", ", statuses.GroupBy(static s => s.Status).Select(static g => $"{(int)g.Key}: {g.Count()}"))}; failed polls: {failedPolls}");

        // What the database holds is what was said: every line acknowledged with 204, and
        // perhaps one whose answer was lost with the instance.
        var stored = await StoredLinesAsync(database, room);
        var acknowledged = statuses.Where(static s => s.Status == HttpStatusCode.NoContent).Select(static s => s.Text).ToHashSet();
        Assert.Subset(stored.Where(static l => l.Kind == "message").Select(static l => l.Text!).ToHashSet(), acknowledged);

        // Bob's page receives exactly the lines after its position, his join: none lost, none twice, in order.
        var bobJoinedAt = stored.Last(static l => l.Kind == "join").Sequence;
        var expected = stored.Where(l => l.Sequence > bobJoinedAt).ToList();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            int count;
            lock (received)
            {
                count = received.Count;
            }

            if (count >= expected.Count || deadline.Elapsed > TimeSpan.FromSeconds(15))
            {
                break;
            }

            await Task.Delay(100);
        }

        await stop.CancelAsync();
        await poller.ContinueWith(static _ => { }, TaskScheduler.Default);
        lock (received)
        {
            var delays = statuses.Where(s => arrivals.ContainsKey(s.Text)).Select(s => (s.SentAt, Delay: arrivals[s.Text] - s.SentAt)).ToList();
            var afterKill = delays.Where(d => d.SentAt >= killedAt).ToList();
            output.WriteLine($"send to Bob's page: median {delays.Select(static d => d.Delay.TotalMilliseconds).Order().ElementAt(delays.Count / 2):F0} ms, longest {delays.Max(static d => d.Delay.TotalMilliseconds):F0} ms; first line said after the kill shown after {(afterKill.Count > 0 ? afterKill[0].Delay.TotalMilliseconds : double.NaN):F0} ms, the longest after the kill {(afterKill.Count > 0 ? afterKill.Max(static d => d.Delay.TotalMilliseconds) : double.NaN):F0} ms");
        }

        output.WriteLine($"Bob's page had every line {deadline.Elapsed.TotalSeconds:F1} s after the last was said");
        List<(long Sequence, string Kind, string? Text)> got;
        lock (received)
        {
            got = [.. received];
        }

        var lost = expected.Select(static e => e.Sequence).Except(got.Select(static g => g.Sequence)).Count();
        var repeated = got.Count - got.Select(static g => g.Sequence).Distinct().Count();
        var outOfOrder = got.Zip(got.Skip(1)).Count(static pair => pair.Second.Sequence <= pair.First.Sequence);
        output.WriteLine($"Bob received {got.Count} lines of the {expected.Count} stored after his join: {lost} lost, {repeated} repeated, {outOfOrder} out of order");
        Assert.True(lost == 0 && repeated == 0 && outOfOrder == 0, $"{lost} lost, {repeated} repeated, {outOfOrder} out of order{Environment.NewLine}{cluster.LastOutput(30)}");
        Assert.Equal(expected, got);
        Assert.True(acknowledged.Count >= statuses.Count / 2, "Most sends should be taken.");
    }

    private static async Task<List<(long Sequence, string Kind, string? Text)>> StoredLinesAsync(string database, string room)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT seq, kind, text FROM comety_chat.lines WHERE room = @room ORDER BY seq", connection);
        command.Parameters.AddWithValue("room", room);
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<(long, string, string?)>();
        while (await reader.ReadAsync())
        {
            lines.Add((reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }

        return lines;
    }
}
