using System.Text.Json;
using Comety.PostgreSql;
using Comety.Tests.Infrastructure;
using Npgsql;

namespace Comety.Tests.PostgreSql;

/// <summary>The PostgreSQL log itself: gap-free order under concurrent appenders, the schema, trimming.</summary>
[Collection(PostgresSuite.Name)]
[Trait("Category", "PostgreSql")]
public sealed class PostgreSqlEventLogTests(PostgresFixture postgres)
{
    private static CometyEvent Line(int writer, int n) =>
        new("test", new Dictionary<string, object?> { ["event"] = "line", ["writer"] = writer, ["n"] = n });

    private static PostgreSqlEventLog Open(string connectionString, string logName = "default", bool createSchema = true, int maxAppendBatch = 500) =>
        new(new PostgreSqlEventLogOptions { ConnectionString = connectionString, LogName = logName, CreateSchema = createSchema, MaxAppendBatch = maxAppendBatch });

    [Fact]
    public async Task Four_concurrent_appenders_on_three_logs_give_dense_numbers_that_a_reader_never_sees_out_of_order()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        const int PerWriter = 150;
        string[] names = ["one", "two", "three"];

        // Four appenders per log (each its own log instance: its own connections, as four servers),
        // writing while a reader of each log follows it and checks every batch starts where the last ended.
        var writers = new List<PostgreSqlEventLog>();
        var tasks = new List<Task>();
        var readers = new List<Task<List<(int Writer, int N)>>>();
        foreach (var name in names)
        {
            for (var w = 0; w < 4; w++)
            {
                var log = Open(connectionString, name, maxAppendBatch: 1 + (w * 20));
                writers.Add(log);
                var writer = w;
                tasks.Add(Task.Run(async () =>
                {
                    for (var n = 0; n < PerWriter; n++)
                    {
                        await log.AppendAsync(Line(writer, n));
                    }
                }));
            }

            var reading = Open(connectionString, name);
            writers.Add(reading);
            readers.Add(Task.Run(async () =>
            {
                var seen = new List<(int, int)>();
                var next = 1L;
                using var bound = new CancellationTokenSource(TestEvents.Bound * 3);
                while (seen.Count < 4 * PerWriter)
                {
                    var batch = await reading.ReadAsync(next, 100, bound.Token);
                    foreach (var e in batch)
                    {
                        Assert.Equal(next, e.Sequence);
                        next++;
                        seen.Add((((JsonElement)e.Args["writer"]!).GetInt32(), ((JsonElement)e.Args["n"]!).GetInt32()));
                    }

                    if (batch.Count == 0)
                    {
                        await reading.WaitForNewerAsync(next - 1, bound.Token);
                    }
                }

                return seen;
            }));
        }

        await Task.WhenAll(tasks).WaitAsync(TestEvents.Bound * 3);
        var results = await Task.WhenAll(readers).WaitAsync(TestEvents.Bound * 3);
        foreach (var seen in results)
        {
            // Every append once, and each writer's in the order it appended them.
            Assert.Equal(4 * PerWriter, seen.Distinct().Count());
            for (var w = 0; w < 4; w++)
            {
                Assert.Equal(Enumerable.Range(0, PerWriter), seen.Where(s => s.Writer == w).Select(static s => s.N));
            }
        }

        foreach (var log in writers)
        {
            await log.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_commit_held_back_holds_back_the_appends_after_it_so_no_reader_sees_a_later_number_first()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var first = Open(connectionString);
        await using var second = Open(connectionString);
        await using var reader = Open(connectionString);
        await first.AppendAsync(Line(0, 0));

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var held = await first.AppendInTransactionAsync(Line(1, 0), transaction);
        Assert.Equal(2, held);

        // Another server appends while the transaction that took #2 is still open: it waits for the
        // counter row, so #3 cannot be committed (and seen) before #2.
        var later = second.AppendAsync(Line(2, 0)).AsTask();
        var whileHeld = await reader.ReadAsync(2, 10);
        Assert.Empty(whileHeld);
        Assert.False(later.IsCompleted, "an append took a number while an earlier one was uncommitted");

        await transaction.CommitAsync();
        var appended = await later.WaitAsync(TestEvents.Bound);
        Assert.Equal(3, appended.Sequence);
        Assert.Equal([2L, 3L], (await reader.ReadAsync(2, 10)).Select(static e => e.Sequence));
    }

    [Fact]
    public async Task A_rolled_back_append_leaves_no_number_behind()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var log = Open(connectionString);
        await log.AppendAsync(Line(0, 0));
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await log.AppendInTransactionAsync(Line(0, 1), transaction);
            await transaction.RollbackAsync();
        }

        var next = await log.AppendAsync(Line(0, 2));
        Assert.Equal(2, next.Sequence);
        Assert.Equal([1L, 2L], (await log.ReadAsync(1, 10)).Select(static e => e.Sequence));
    }

    [Fact]
    public async Task An_event_read_back_is_written_to_the_wire_as_the_same_bytes()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var log = Open(connectionString);
        var original = new CometyEvent(new Dictionary<string, object?> { ["name"] = "ann", ["id"] = 7 }, new Dictionary<string, object?>
        {
            ["event"] = "line",
            ["z"] = 1.5,
            ["a"] = new[] { "x", "y" },
            ["nested"] = new Dictionary<string, object?> { ["b"] = true, ["a"] = null },
            ["text"] = "héllo \"quoted\" \u2028",
        }, "room");
        var appended = await log.AppendAsync(original);
        var read = Assert.Single(await log.ReadAsync(appended.Sequence, 1));

        Assert.Equal(JsonSerializer.Serialize(appended), JsonSerializer.Serialize(read));
        Assert.Equal("room", read.Channel);
        Assert.Equal("line", read.Type);
    }

    [Fact]
    public async Task The_shipped_schema_script_run_by_hand_serves_a_log_that_creates_nothing()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            var script = await File.ReadAllTextAsync(Path.Combine(BuildOutput.RepositoryRoot, "Comety.PostgreSql", "Schema", "comety-schema-1.sql"));
            await using var command = new NpgsqlCommand(script, connection);
            await command.ExecuteNonQueryAsync();

            // Idempotent: a second run changes nothing.
            await command.ExecuteNonQueryAsync();
        }

        await using var log = Open(connectionString, createSchema: false);
        var appended = await log.AppendAsync(Line(0, 0));
        Assert.Equal(1, appended.Sequence);
    }

    [Fact]
    public async Task A_log_without_its_schema_and_told_not_to_create_it_says_so()
    {
        await using var log = Open(await postgres.CreateDatabaseAsync(), createSchema: false);
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => log.AppendAsync(Line(0, 0)).AsTask());
        Assert.Contains("comety", failure.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Trimming_folds_the_membership_it_removes_so_a_server_that_starts_after_it_sees_the_same_users()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var cluster = await SharedCluster.StartAsync(connectionString, 1);
        var server = cluster[0];
        await server.RegisterUserAsync("ann");
        await server.RegisterUserAsync("bob");
        await server.SubscribeAsync("ann", "room");
        await server.SubscribeAsync("bob", "room");
        await server.SubscribeAsync("bob", "other");
        await server.UnsubscribeAsync("bob", "room");
        await server.RegisterUserAsync("cid");
        await server.UnregisterUserAsync("cid");
        await server.BroadcastAsync("test", new Dictionary<string, object?> { ["event"] = "hello" });
        var through = server.LastSequence;

        await server.EventLog.TrimAsync(through + 1);
        Assert.Empty(await server.EventLog.ReadAsync(1, 100));

        await cluster.StopServerAsync(0);
        await cluster.StartServerAsync(0);
        var restarted = cluster[0];
        Assert.True(restarted.IsRegistered("ann"));
        Assert.True(restarted.IsRegistered("bob"));
        Assert.False(restarted.IsRegistered("cid"));
        Assert.Equal(["room"], restarted.GetChannels("ann"));
        Assert.Equal(["other"], restarted.GetChannels("bob"));

        // A page from before the trim resynchronises; one at the trim point goes on.
        Assert.True((await restarted.PollAsync("ann", 1, TimeSpan.Zero)).MustResynchronize);
        var current = await restarted.PollAsync("ann", through, TimeSpan.Zero);
        Assert.False(current.MustResynchronize);
    }

    [Fact]
    public async Task An_expired_user_is_taken_once_per_claim_so_a_leader_that_fails_leaves_it_to_the_next_and_leaving_forgets_it()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var leader = Open(connectionString);
        await using var next = Open(connectionString);
        var now = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
        await leader.ReportPresenceAsync([("ann", now.AddSeconds(5)), ("bob", now.AddSeconds(40)), ("ann", now.AddSeconds(1))]);

        Assert.Empty(await leader.TakeExpiredUsersAsync(now.AddSeconds(4), TimeSpan.FromSeconds(30)));
        Assert.Equal(["ann"], await leader.TakeExpiredUsersAsync(now.AddSeconds(6), TimeSpan.FromSeconds(30)));

        // Claimed: not taken again until the claim passes, by this leader or the next.
        Assert.Empty(await next.TakeExpiredUsersAsync(now.AddSeconds(7), TimeSpan.FromSeconds(30)));
        Assert.Equal(["ann"], await next.TakeExpiredUsersAsync(now.AddSeconds(37), TimeSpan.FromSeconds(30)));

        // A later report moves the deadline on; an unregistration forgets it.
        await leader.ReportPresenceAsync([("bob", now.AddSeconds(100))]);
        Assert.Empty(await next.TakeExpiredUsersAsync(now.AddSeconds(50), TimeSpan.FromSeconds(30)));
        await leader.AppendAsync(CometyEvent.Membership(LogRecordKind.UserUnregistered, "bob", null, origin: "test"));
        Assert.Equal(["ann"], await next.TakeExpiredUsersAsync(now.AddSeconds(500), TimeSpan.FromSeconds(30)));
    }
}
