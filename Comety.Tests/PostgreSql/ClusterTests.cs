using System.Text.Json;
using Comety.PostgreSql;
using Comety.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Comety.Tests.PostgreSql;

/// <summary>Several dispatchers on one PostgreSQL log: any server answers any poll, and restarts lose nothing.</summary>
[Collection("PostgreSQL")]
[Trait("Category", "PostgreSql")]
public sealed class ClusterTests(PostgresFixture postgres)
{
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(5);

    private static Dictionary<string, object?> Numbered(int n) => new() { ["event"] = "line", ["n"] = n };

    // Polls user's page from `position` on the servers in turn until `count` events came; returns their n.
    private static async Task<(List<int> Numbers, long Position)> ReceiveAsync(IReadOnlyList<CometyDispatcher> servers, string userId, long position, int count)
    {
        var numbers = new List<int>();
        using var bound = new CancellationTokenSource(TestEvents.Bound * 2);
        for (var turn = 0; numbers.Count < count; turn++)
        {
            if (bound.IsCancellationRequested)
            {
                Assert.Fail($"Received {numbers.Count} of {count} events in {TestEvents.Bound * 2} (position {position}): {string.Join(",", numbers)}");
            }

            var server = servers[turn % servers.Count];
            Assert.True(await server.CatchUpAsync(position, bound.Token), $"server {turn % servers.Count} could not reach position {position}");
            PollResult result;
            try
            {
                result = await server.PollAsync(userId, position, Hold, cancellationToken: bound.Token);
            }
            catch (OperationCanceledException)
            {
                continue;
            }

            Assert.False(result.MustResynchronize, $"told to resynchronise at {position}");
            foreach (var e in result.Events ?? [])
            {
                if (e.Args.TryGetValue("n", out var n) && n is JsonElement number)
                {
                    numbers.Add(number.GetInt32());
                }
            }

            position = result.LastId;
        }

        return (numbers, position);
    }

    [Fact]
    public async Task Registered_on_A_subscribed_on_B_posted_on_C_polled_on_A_and_B_in_turn_every_event_once_in_order()
    {
        await using var cluster = await SharedCluster.StartAsync(await postgres.Server.CreateDatabaseAsync(), 3);
        await cluster[0].RegisterUserAsync("ann");
        var position = cluster[0].LastSequence;

        Assert.True(await cluster[1].CatchUpAsync(position));
        Assert.True(await cluster[1].SubscribeAsync("ann", "room"));
        Assert.True(await cluster[2].CatchUpAsync(cluster[1].LastSequence));
        Assert.Equal(["ann"], cluster[2].GetSubscribers("room"));

        for (var n = 1; n <= 30; n++)
        {
            // Channel posts and broadcasts, from the server that knows nothing of the user's polls.
            var posted = n % 3 == 0
                ? await cluster[2].BroadcastAsync("test", Numbered(n))
                : await cluster[2].PostToChannelAsync("room", "test", Numbered(n));
            Assert.True(posted is not null, $"post {n} dropped: server 2 has {cluster[2].UserCount} users");
        }

        var (numbers, _) = await ReceiveAsync([cluster[0], cluster[1]], "ann", position, 30);
        Assert.Equal(Enumerable.Range(1, 30), numbers);
    }

    [Fact]
    public async Task A_channel_event_reaches_only_the_users_subscribed_when_it_was_posted_on_every_server()
    {
        await using var cluster = await SharedCluster.StartAsync(await postgres.Server.CreateDatabaseAsync(), 2);
        await cluster[0].RegisterUserAsync("ann");
        await cluster[0].SubscribeAsync("ann", "room");
        var start = cluster[0].LastSequence;
        await cluster[0].PostToChannelAsync("room", "test", Numbered(1));
        await cluster[0].UnsubscribeAsync("ann", "room");
        await cluster[0].PostToChannelAsync("room", "test", Numbered(2));
        await cluster[0].SubscribeAsync("ann", "room");
        await cluster[0].PostToChannelAsync("room", "test", Numbered(3));

        // Server 1 applied the same records in the same order: the same window.
        var (numbers, _) = await ReceiveAsync([cluster[1]], "ann", start, 2);
        Assert.Equal([1, 3], numbers);
    }

    [Fact]
    public async Task A_server_that_starts_later_builds_the_same_users_and_channels_from_the_log()
    {
        await using var cluster = await SharedCluster.StartAsync(await postgres.Server.CreateDatabaseAsync(), 2);
        await cluster[0].RegisterUserAsync("ann");
        await cluster[0].RegisterUserAsync("bob");
        await cluster[0].SubscribeAsync("ann", "room");
        await cluster[0].SubscribeAsync("bob", "room");
        await cluster[0].UnregisterUserAsync("bob");
        var position = cluster[0].LastSequence;
        await cluster[0].PostToChannelAsync("room", "test", Numbered(1));

        await cluster.StopServerAsync(1);
        await cluster.StartServerAsync(1);

        Assert.True(cluster[1].IsRegistered("ann"));
        Assert.False(cluster[1].IsRegistered("bob"));
        Assert.Equal(["ann"], cluster[1].GetSubscribers("room"));
        var (numbers, _) = await ReceiveAsync([cluster[1]], "ann", position, 1);
        Assert.Equal([1], numbers);
    }

    [Fact]
    public async Task A_server_restarted_during_a_broadcast_loses_nothing_its_pages_resume_on_the_others_and_on_it()
    {
        await using var cluster = await SharedCluster.StartAsync(await postgres.Server.CreateDatabaseAsync(), 2);
        await cluster[0].RegisterUserAsync("ann");
        var position = cluster[0].LastSequence;

        var posting = Task.Run(async () =>
        {
            for (var n = 1; n <= 200; n++)
            {
                Assert.NotNull(await cluster[1].BroadcastAsync("test", Numbered(n)));
            }
        });

        // Server 0 goes away mid-broadcast, and comes back.
        var (first, after) = await ReceiveAsync([cluster[0]], "ann", position, 20);
        await cluster.StopServerAsync(0);
        var (middle, later) = await ReceiveAsync([cluster[1]], "ann", after, 50);
        await cluster.StartServerAsync(0);
        await posting.WaitAsync(TestEvents.Bound * 3);
        var (rest, _) = await ReceiveAsync([cluster[0], cluster[1]], "ann", later, 200 - first.Count - middle.Count);

        Assert.Equal(Enumerable.Range(1, 200), [.. first, .. middle, .. rest]);
    }

    [Fact]
    public async Task PostgreSQL_stopped_and_started_during_a_broadcast_loses_no_acknowledged_event_and_polls_resume()
    {
        await using var database = await PostgresServer.StartAsync();
        await using var cluster = await SharedCluster.StartAsync(await database.CreateDatabaseAsync(), 2);
        await cluster[0].RegisterUserAsync("ann");
        var position = cluster[0].LastSequence;
        var acknowledged = new List<int>();
        var refused = new List<Exception>();
        using var stop = new CancellationTokenSource();
        var halfway = new TaskCompletionSource();
        var posting = Task.Run(async () =>
        {
            for (var n = 1; n <= 150; n++)
            {
                try
                {
                    if (await cluster[1].BroadcastAsync("test", Numbered(n)) is not null)
                    {
                        acknowledged.Add(n);
                    }
                }
                catch (EventLogUnavailableException e)
                {
                    // Not acknowledged: the application knows the post failed, and why.
                    refused.Add(e);
                    await Task.Delay(20);
                }

                if (acknowledged.Count == 50)
                {
                    halfway.TrySetResult();
                }
            }
        });

        await halfway.Task.WaitAsync(TestEvents.Bound);
        await database.StopAsync();
        await BrowserWait.UntilAsync(() => !cluster[0].IsLogAvailable && refused.Count > 0, "the servers to notice that the database is gone");
        var whileDown = await Assert.ThrowsAsync<EventLogUnavailableException>(() => cluster[0].CatchUpAsync(null).AsTask());
        Assert.NotNull(whileDown.InnerException);
        await database.StartAgainAsync();
        await posting.WaitAsync(TestEvents.Bound * 3);
        await BrowserWait.UntilAsync(() => cluster[0].IsLogAvailable && cluster[1].IsLogAvailable, "the servers to use the database again");

        // The page gets every acknowledged event once, in order; an unacknowledged one at most once.
        var received = new List<int>();
        using var bound = new CancellationTokenSource(TestEvents.Bound * 2);
        while (!received.Contains(acknowledged[^1]))
        {
            bound.Token.ThrowIfCancellationRequested();
            var server = cluster[received.Count % 2];
            Assert.True(await server.CatchUpAsync(position, bound.Token));
            var result = await server.PollAsync("ann", position, Hold, cancellationToken: bound.Token);
            received.AddRange((result.Events ?? []).Select(static e => ((JsonElement)e.Args["n"]!).GetInt32()));
            position = result.LastId;
        }

        Assert.Equal(received.Order(), received);
        Assert.Equal(received.Distinct().Count(), received.Count);
        Assert.Empty(acknowledged.Except(received));
        Assert.True(refused.Count + acknowledged.Count >= received.Count);
    }

    [Fact]
    public async Task An_event_posted_in_a_transaction_is_delivered_when_it_commits_and_never_when_it_rolls_back()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();
        await using var cluster = await SharedCluster.StartAsync(connectionString, 2);
        await cluster[0].RegisterUserAsync("ann");
        var position = cluster[0].LastSequence;

        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using (var rolledBack = await connection.BeginTransactionAsync())
            {
                await cluster[0].BroadcastAsync(rolledBack, "test", Numbered(1));
                await rolledBack.RollbackAsync();
            }

            await using var committed = await connection.BeginTransactionAsync();
            var sequence = await cluster[0].BroadcastAsync(committed, "test", Numbered(2));

            // Not delivered before the commit, on any server.
            var early = await cluster[1].PollAsync("ann", position, TimeSpan.Zero);
            Assert.Null(early.Events);
            await committed.CommitAsync();
            Assert.True(sequence > position);
        }

        var (numbers, _) = await ReceiveAsync([cluster[1], cluster[0]], "ann", position, 1);
        Assert.Equal([2], numbers);

        // Nothing else comes after it: the rolled-back event is nowhere.
        var more = await cluster[0].PostToUserAsync("ann", "test", Numbered(3));
        var (next, _) = await ReceiveAsync([cluster[0]], "ann", more!.Value - 1, 1);
        Assert.Equal([3], next);
    }

    [Fact]
    public async Task A_position_read_in_the_transaction_of_the_page_data_gets_exactly_the_events_the_data_does_not_show_on_a_server_behind()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var cluster = await SharedCluster.StartAsync(connectionString, 2);
        await cluster[0].RegisterUserAsync("ann");
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var setup = new NpgsqlCommand("CREATE TABLE lines (n int)", connection))
        {
            await setup.ExecuteNonQueryAsync();
        }

        // Lines are written with their events, in one transaction each (server 0).
        async Task SayAsync(int n)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var insert = new NpgsqlCommand($"INSERT INTO lines VALUES ({n})", connection, transaction))
            {
                await insert.ExecuteNonQueryAsync();
            }

            await cluster[0].BroadcastAsync(transaction, "test", Numbered(n));
            await transaction.CommitAsync();
        }

        for (var n = 1; n <= 5; n++)
        {
            await SayAsync(n);
        }

        // Server 1 renders the page: the lines and the position in one snapshot, then it has read up to it.
        List<int> shown = [];
        long position;
        await using (var page = new NpgsqlConnection(connectionString))
        {
            await page.OpenAsync();
            await using var snapshot = await page.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
            await using (var select = new NpgsqlCommand("SELECT n FROM lines ORDER BY n", page, snapshot))
            await using (var reader = await select.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    shown.Add(reader.GetInt32(0));
                }
            }

            position = await cluster[1].ReadPositionAsync(snapshot);
            await snapshot.CommitAsync();
        }

        Assert.True(cluster[1].LastSequence >= position);
        for (var n = 6; n <= 8; n++)
        {
            await SayAsync(n);
        }

        var (numbers, _) = await ReceiveAsync([cluster[1]], "ann", position, 3);
        Assert.Equal([1, 2, 3, 4, 5], shown);
        Assert.Equal([6, 7, 8], numbers);
    }

    [Fact]
    public async Task A_wiped_store_is_detected_by_its_epoch_and_pages_of_the_old_one_resynchronise()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();
        await using var cluster = await SharedCluster.StartAsync(connectionString, 1);
        await cluster[0].RegisterUserAsync("ann");
        for (var n = 1; n <= 5; n++)
        {
            await cluster[0].BroadcastAsync("test", Numbered(n));
        }

        var oldPosition = cluster[0].LastSequence;
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var wipe = new NpgsqlCommand("TRUNCATE comety.logs, comety.records, comety.users, comety.subscriptions, comety.presence", connection);
            await wipe.ExecuteNonQueryAsync();
        }

        // The server notices the new store (a new epoch) and moves its numbers past what pages saw.
        await BrowserWait.UntilAsync(() => !cluster[0].IsRegistered("ann"), "the server to follow the new store: " + cluster.DescribeLogs());
        await BrowserWait.UntilAsync(() => cluster[0].LastSequence > oldPosition, "the numbers to move past the old store's");
        Assert.False(await cluster[0].CatchUpAsync(oldPosition));

        await cluster[0].RegisterUserAsync("ann");
        var fresh = cluster[0].LastSequence;
        Assert.True(fresh > oldPosition);
        var stale = await cluster[0].PollAsync("ann", oldPosition, TimeSpan.Zero);
        Assert.True(stale.MustResynchronize);
        await cluster[0].BroadcastAsync("test", Numbered(6));
        var (numbers, _) = await ReceiveAsync([cluster[0]], "ann", fresh, 1);
        Assert.Equal([6], numbers);
    }

    [Fact]
    public async Task A_heartbeat_timeout_is_decided_once_for_three_servers_and_a_user_polling_on_any_server_stays()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var cluster = await SharedCluster.StartAsync(
            await postgres.Server.CreateDatabaseAsync(), 3, time, static () => new DispatcherOptions { HeartbeatTimeout = TimeSpan.FromSeconds(2) });
        var disconnected = 0;
        var finished = 0;
        for (var i = 0; i < 3; i++)
        {
            cluster[i].On(LifecycleEvent.Disconnected, _ =>
            {
                Interlocked.Increment(ref disconnected);
                return ValueTask.CompletedTask;
            });
            cluster[i].On(LifecycleEvent.Finished, _ =>
            {
                Interlocked.Increment(ref finished);
                return ValueTask.CompletedTask;
            });
        }

        await cluster[0].RegisterUserAsync("quiet");
        await cluster[0].RegisterUserAsync("busy");
        var position = cluster[0].LastSequence;
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await cluster[i].CatchUpAsync(position));
        }

        // "busy" polls on server 2 all along (a poll ends and the next starts, as a page does); the
        // deadline of "quiet" (registration + 12 s unmeasured) passes.
        using var stop = new CancellationTokenSource();
        var polling = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                cluster[2].StopHeartbeat("busy");
                await cluster[2].PollAsync("busy", position, TimeSpan.FromSeconds(1), cancellationToken: stop.Token).AsTask().ContinueWith(static _ => { }, TaskScheduler.Default);
                cluster[2].StartHeartbeat("busy", TimeSpan.Zero);
            }
        });
        using var bound = new CancellationTokenSource(TestEvents.Bound * 3);
        while (cluster.Count > 0 && Enumerable.Range(0, 3).Any(i => cluster[i].IsRegistered("quiet")))
        {
            time.Advance(TimeSpan.FromMilliseconds(400));
            await Task.Delay(TimeSpan.FromMilliseconds(20), bound.Token);
        }

        // A few more rounds for a second decision to show up, were there one.
        for (var round = 0; round < 20; round++)
        {
            time.Advance(TimeSpan.FromMilliseconds(400));
            await Task.Delay(TimeSpan.FromMilliseconds(20), bound.Token);
        }

        await stop.CancelAsync();
        await polling.WaitAsync(TestEvents.Bound);
        Assert.Equal(1, disconnected);
        Assert.Equal(1, finished);
        Assert.Equal(1, Enumerable.Range(0, 3).Count(i => cluster[i].IsLeader));
        for (var i = 0; i < 3; i++)
        {
            Assert.False(cluster[i].IsRegistered("quiet"));
            Assert.True(cluster[i].IsRegistered("busy"), $"busy was timed out on server {i}");
        }
    }

    [Fact]
    public async Task Waiting_polls_are_reported_alive_once_a_heartbeat_timeout_not_every_round()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var log = new PostgreSqlEventLog(new PostgreSqlEventLogOptions { ConnectionString = await postgres.CreateDatabaseAsync() });
        var counting = new CountingSharedLog(log);
        using var server = new CometyDispatcher(new DispatcherOptions { HeartbeatTimeout = TimeSpan.FromSeconds(2) }, counting, time);
        await server.StartAsync().WaitAsync(TestEvents.Bound);
        const int Users = 50;
        using var stop = new CancellationTokenSource();
        var polls = new List<Task>();
        for (var i = 0; i < Users; i++)
        {
            await server.RegisterUserAsync($"u{i}");
        }

        var position = server.LastSequence;
        for (var i = 0; i < Users; i++)
        {
            server.StopHeartbeat($"u{i}");
            polls.Add(server.PollAsync($"u{i}", position, Timeout.InfiniteTimeSpan, cancellationToken: stop.Token).AsTask());
        }

        // 20 rounds of 0.4 s: 8 s, four heartbeat timeouts, with every poll waiting all along.
        var before = counting.ReportedRows;
        for (var round = 0; round < 20; round++)
        {
            time.Advance(TimeSpan.FromMilliseconds(400));
            await Task.Delay(TimeSpan.FromMilliseconds(25));
        }

        var reported = counting.ReportedRows - before;
        await stop.CancelAsync();
        await Task.WhenAll(polls.Select(static p => p.ContinueWith(static _ => { }, TaskScheduler.Default))).WaitAsync(TestEvents.Bound);

        // About once a timeout each (4 to 5 times), where reporting every round would be 20.
        Assert.InRange(reported, Users, Users * 6);
        Assert.All(Enumerable.Range(0, Users), i => Assert.True(server.IsRegistered($"u{i}")));
    }

    [Fact]
    public async Task A_poll_that_comes_while_a_server_is_loading_the_log_waits_for_the_load_and_the_server_is_not_ready_until_then()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var cluster = await SharedCluster.StartAsync(connectionString, 1);
        await cluster[0].RegisterUserAsync("ann");
        var position = cluster[0].LastSequence;
        await cluster[0].BroadcastAsync("test", Numbered(1));

        await using var log = new PostgreSqlEventLog(new PostgreSqlEventLogOptions { ConnectionString = connectionString });
        var gated = new CountingSharedLog(log) { LoadGate = new TaskCompletionSource() };
        using var starting = new CometyDispatcher(log: gated);
        var started = starting.StartAsync();

        var poll = starting.PollAsync("ann", position, Hold).AsTask();
        Assert.False(starting.IsReady);
        Assert.True(starting.IsLogAvailable, "a server that is loading is not one whose database is away");
        Assert.False(poll.IsCompleted);

        gated.LoadGate.SetResult();
        await started.WaitAsync(TestEvents.Bound);
        var result = await poll.WaitAsync(TestEvents.Bound);
        Assert.True(starting.IsReady);
        Assert.Equal([1], (result.Events ?? []).Select(static e => ((JsonElement)e.Args["n"]!).GetInt32()));
    }
}
