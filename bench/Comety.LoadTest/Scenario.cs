using System.Diagnostics;
using System.Globalization;

namespace Comety.LoadTest;

/// <summary>The implementations and transports the load test compares.</summary>
internal enum Target
{
    /// <summary>Comety on long polling (protocol version 1).</summary>
    Comety,

    /// <summary>Comety on its stream of Server-Sent Events (protocol version 2).</summary>
    CometyStreaming,

    /// <summary>
    /// Comety on long polling, two servers on the shared PostgreSQL log (a database of the run's own):
    /// each request of a client goes to either server at random.
    /// </summary>
    CometyPostgreSql2,

    SignalRLongPolling,
    SignalRWebSockets,
}

/// <summary>The settings of a run.</summary>
/// <param name="Sources">The loopback addresses the clients connect from (none: 127.0.0.1, the kernel's choice).</param>
/// <param name="StreamDuration">The Comety server's <c>Comety:StreamDuration</c>, when not its default.</param>
/// <param name="CutStreamsAfter">Comety streaming clients close each stream after about this long and resume (a check, not a measurement).</param>
internal sealed record ScenarioSettings(int Events, TimeSpan Interval, int RoomPosts, int WarmUpEvents, int ConnectConcurrency, TimeSpan PhaseTimeout,
    SourceAddresses Sources, TimeSpan? StreamDuration = null, TimeSpan? CutStreamsAfter = null);

/// <summary>
/// One row of the comparison: one server process of one implementation and transport (or two Comety
/// servers on one PostgreSQL database), N clients.
/// Starts the server, warms it up with a small fleet that then leaves, reads idle memory, connects
/// the N clients, reads memory with all of them waiting, then runs three phases, each ended only when
/// every client received every event it should and is waiting again:
/// broadcast (K events, one per interval), burst (K events at once), room (posts to one room of 100).
/// </summary>
internal sealed class Scenario(Target target, int clients, ScenarioSettings settings, TextWriter log)
{
    private const int WarmUpClients = 100;

    public async Task<RowResult> RunAsync(CancellationToken cancellationToken)
    {
        await using var server = await StartServerAsync(cancellationToken);
        log.WriteLine($"  {Name(target)}: {server.Describe()}");

        // JIT and tiering on a small fleet that then leaves, so that the idle figure includes the code.
        {
            var warmBook = new EventBook(WarmUpClients, 8);
            await using var warm = CreateFleet(server.Addresses, warmBook);
            await warm.ConnectAsync(WarmUpClients, settings.ConnectConcurrency, cancellationToken);
            // SignalR answers the Join's POST before the hub has run it: wait for the joins, as below.
            await WaitForAsync(server, "warm-up clients in their rooms", s => s.Joined >= WarmUpClients, cancellationToken, joined: true);
            await WaitForAsync(server, "warm-up clients waiting", s => s.Waiting >= WarmUpClients, cancellationToken);
            for (var i = 0; i < 4; i++)
            {
                await server.BroadcastAsync(i, cancellationToken);
            }

            await server.BurstAsync(4, 3, cancellationToken);
            await server.PostToRoomAsync(Rooms.Name(0), 7, cancellationToken);
            await WaitForReceiptsAsync(warmBook, warm, (WarmUpClients * 7L) + (WarmUpClients / Rooms.Count), cancellationToken);
        }

        await WaitForAsync(server, "warm-up clients gone", s => s.Waiting == 0, cancellationToken);
        var idle = await server.CollectGarbageAsync(cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        var idleRss = server.ResidentBytes();

        var k = settings.Events;
        var warmUp = settings.WarmUpEvents;
        var roomStart = warmUp + (2 * k);
        var book = new EventBook(clients, roomStart + settings.RoomPosts);
        var fleet = CreateFleet(server.Addresses, book);
        try
        {
            var joinedBefore = (await server.StatusAsync(joined: true, cancellationToken)).Joined;
            var connectStarted = Stopwatch.GetTimestamp();
            await fleet.ConnectAsync(clients, settings.ConnectConcurrency, cancellationToken);
            await WaitForAsync(server, "every client in its room", s => s.Joined - joinedBefore >= clients, cancellationToken, joined: true);
            var waiting = await WaitForAsync(server, "every client waiting", s => s.Waiting >= clients, cancellationToken);
            var connectTime = Stopwatch.GetElapsedTime(connectStarted);
            log.WriteLine($"  {clients} clients connected and waiting in {connectTime.TotalSeconds:0.0} s");

            // A few events for the fleet's own first responses, outside the figures.
            for (var i = 0; i < warmUp; i++)
            {
                await server.BroadcastAsync(i, cancellationToken);
                await Task.Delay(settings.Interval, cancellationToken);
            }

            await WaitForReceiptsAsync(book, fleet, (long)clients * warmUp, cancellationToken);
            await WaitForAsync(server, "every client waiting", s => s.Waiting >= clients, cancellationToken);

            var loaded = await server.CollectGarbageAsync(cancellationToken);
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            var loadedRss = server.ResidentBytes();
            waiting = await server.StatusAsync(cancellationToken: cancellationToken);

            // CPU the server uses with everyone waiting and nothing posted: subtracted from per-post figures.
            var idleCpuStart = server.CpuTime();
            var idleStarted = Stopwatch.GetTimestamp();
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            var idleCpuPerSecond = (server.CpuTime() - idleCpuStart) / Stopwatch.GetElapsedTime(idleStarted).TotalSeconds;

            // Broadcast: one event per interval.
            var expected = (long)clients * (warmUp + k);
            var before = await server.StatusAsync(cancellationToken: cancellationToken);
            var cpu = server.CpuTime();
            var databaseCpu = server.DatabaseCpuTime();
            var clientCpu = Environment.CpuUsage.TotalTime;
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < k; i++)
            {
                await server.BroadcastAsync(warmUp + i, cancellationToken);
                await DelayUntilAsync(started, settings.Interval * (i + 1), cancellationToken);
            }

            await WaitForReceiptsAsync(book, fleet, expected, cancellationToken);
            await WaitForAsync(server, "every client waiting", s => s.Waiting >= clients, cancellationToken);
            var broadcastCpu = server.CpuTime() - cpu;
            var broadcastDatabaseCpu = server.DatabaseCpuTime() - databaseCpu;
            var broadcastClientCpu = Environment.CpuUsage.TotalTime - clientCpu;
            var broadcastWindow = Stopwatch.GetElapsedTime(started);
            var after = await server.StatusAsync(cancellationToken: cancellationToken);

            // Burst: K events at once.
            expected += (long)clients * k;
            cpu = server.CpuTime();
            started = Stopwatch.GetTimestamp();
            await server.BurstAsync(warmUp + k, k, cancellationToken);
            await WaitForReceiptsAsync(book, fleet, expected, cancellationToken);
            var burstDuration = Stopwatch.GetElapsedTime(started, book.LastReceivedAt);
            await WaitForAsync(server, "every client waiting", s => s.Waiting >= clients, cancellationToken);
            var burstCpu = server.CpuTime() - cpu;

            // Room: posts to room 0 only. Idle CPU is measured again right before, over as long a window.
            var roomInterval = settings.Interval / 2;
            var roomCpuStart = server.CpuTime();
            var roomIdleStarted = Stopwatch.GetTimestamp();
            await Task.Delay(roomInterval * settings.RoomPosts, cancellationToken);
            var roomIdleCpuPerSecond = (server.CpuTime() - roomCpuStart) / Stopwatch.GetElapsedTime(roomIdleStarted).TotalSeconds;
            var roomMembers = (clients + Rooms.Count - 1) / Rooms.Count;
            expected += (long)roomMembers * settings.RoomPosts;
            cpu = server.CpuTime();
            databaseCpu = server.DatabaseCpuTime();
            started = Stopwatch.GetTimestamp();
            for (var i = 0; i < settings.RoomPosts; i++)
            {
                await server.PostToRoomAsync(Rooms.Name(0), roomStart + i, cancellationToken);
                await DelayUntilAsync(started, roomInterval * (i + 1), cancellationToken);
            }

            await WaitForReceiptsAsync(book, fleet, expected, cancellationToken);
            await WaitForAsync(server, "every client waiting", s => s.Waiting >= clients, cancellationToken);
            var roomCpu = server.CpuTime() - cpu;
            var roomDatabaseCpu = server.DatabaseCpuTime() - databaseCpu;
            var roomWindow = Stopwatch.GetElapsedTime(started);

            var spaced = Latencies(book, warmUp, warmUp + k);
            var burst = Latencies(book, warmUp + k, warmUp + (2 * k));
            var (lost, misdelivered) = CountLost(book, roomStart, settings.RoomPosts);
            if (fleet.Report is { } report)
            {
                log.WriteLine("  " + report);
            }

            return new RowResult
            {
                Implementation = target switch
                {
                    Target.Comety or Target.CometyStreaming => "Comety",
                    Target.CometyPostgreSql2 => "Comety, 2 servers, PostgreSQL",
                    _ => "SignalR",
                },
                Servers = server.Servers.Count,
                Transport = target switch
                {
                    Target.CometyStreaming => "Streaming",
                    Target.SignalRWebSockets => "WebSockets",
                    _ => "LongPolling",
                },
                Clients = clients,
                Waiting = waiting.Waiting,
                ConnectSeconds = Math.Round(connectTime.TotalSeconds, 1),
                P50Ms = Ms(Percentile(spaced, 0.50)),
                P99Ms = Ms(Percentile(spaced, 0.99)),
                MaxMs = Ms(spaced[^1]),
                BurstP99Ms = Ms(Percentile(burst, 0.99)),
                BurstEventsPerSecond = Math.Round((double)clients * k / burstDuration.TotalSeconds),
                CpuUsPerDelivery = Math.Round(broadcastCpu.TotalMicroseconds / ((double)clients * k), 2),
                DatabaseCpuUsPerDelivery = broadcastDatabaseCpu is { } db ? Math.Round(db.TotalMicroseconds / ((double)clients * k), 2) : null,
                DatabaseCpuMsPerRoomPost = roomDatabaseCpu is { } roomDb ? Math.Round(roomDb.TotalMilliseconds / settings.RoomPosts, 2) : null,
                ClientCpuUsPerDelivery = Math.Round(broadcastClientCpu.TotalMicroseconds / ((double)clients * k), 2),
                BurstCpuUsPerDelivery = Math.Round(burstCpu.TotalMicroseconds / ((double)clients * k), 2),
                // CPU time is read in 10 ms ticks: with few clients the idle share can exceed a post's own cost; never below zero.
                BroadcastCpuMsPerPost = Math.Max(0, Math.Round(((broadcastCpu - (idleCpuPerSecond * broadcastWindow.TotalSeconds)) / k).TotalMilliseconds, 2)),
                RoomCpuMsPerPost = Math.Max(0, Math.Round(((roomCpu - (roomIdleCpuPerSecond * roomWindow.TotalSeconds)) / settings.RoomPosts).TotalMilliseconds, 2)),
                AllocatedBytesPerDelivery = Math.Round((after.AllocatedBytes - before.AllocatedBytes) / ((double)clients * k)),
                Gen0PerBroadcast = Math.Round((after.Gen0Collections - before.Gen0Collections) / (double)k, 1),
                IdleCpuPercent = Math.Round(idleCpuPerSecond.TotalSeconds * 100, 1),
                IdleRssMB = Math.Round(idleRss / 1048576.0, 1),
                LoadedRssMB = Math.Round(loadedRss / 1048576.0, 1),
                RssKBPerClient = Math.Round((loadedRss - idleRss) / 1024.0 / clients, 1),
                HeapKBPerClient = Math.Round((loaded.HeapBytes - idle.HeapBytes) / 1024.0 / clients, 1),
                GcCommittedKBPerClient = Math.Round((loaded.CommittedBytes - idle.CommittedBytes) / 1024.0 / clients, 1),
                Lost = lost,
                Misdelivered = misdelivered,
                Duplicated = book.Duplicates,
                OutOfOrder = book.OutOfOrder,
                Unexpected = book.Unexpected,
                ClientFailures = fleet.Failures,
                SourceAddresses = settings.Sources.Count,
            };
        }
        finally
        {
            await fleet.DisposeAsync();
        }
    }

    public static string Name(Target target) => target switch
    {
        Target.Comety => "Comety",
        Target.CometyStreaming => "Comety Streaming",
        Target.CometyPostgreSql2 => "Comety, 2 servers on PostgreSQL",
        Target.SignalRLongPolling => "SignalR LongPolling",
        _ => "SignalR WebSockets",
    };

    private Task<ServerCluster> StartServerAsync(CancellationToken cancellationToken) => target switch
    {
        Target.Comety or Target.CometyStreaming => ServerCluster.StartAsync("Comety.LoadTest.CometyServer", CometyServerArguments()),
        Target.CometyPostgreSql2 => ServerCluster.StartOnPostgreSqlAsync(2, CometyServerArguments(), cancellationToken),
        Target.SignalRLongPolling => ServerCluster.StartAsync("Comety.LoadTest.SignalRServer", "--transport", "LongPolling"),
        _ => ServerCluster.StartAsync("Comety.LoadTest.SignalRServer", "--transport", "WebSockets"),
    };

    /// <summary>
    /// The Comety server's options, when the run changes them. The keep-alive interval may not exceed
    /// the stream's duration: a duration under the default 15 s brings the keep-alive to half of it
    /// (at least 1 s), so that a short check still sees keep-alives.
    /// </summary>
    private string[] CometyServerArguments()
    {
        if (settings.StreamDuration is not { } duration)
        {
            return [];
        }

        var keepAlive = TimeSpan.FromSeconds(Math.Max(1, Math.Min(15, duration.TotalSeconds / 2)));
        return
        [
            "--Comety:StreamDuration=" + duration.ToString("c", CultureInfo.InvariantCulture),
            "--Comety:StreamKeepAliveInterval=" + keepAlive.ToString("c", CultureInfo.InvariantCulture),
        ];
    }

    private Fleet CreateFleet(IReadOnlyList<Uri> addresses, EventBook book) => target switch
    {
        Target.Comety or Target.CometyPostgreSql2 => new CometyFleet(addresses, book, settings.Sources),
        Target.CometyStreaming => new CometyStreamFleet(addresses[0], book, settings.Sources, settings.CutStreamsAfter),
        Target.SignalRLongPolling => new SignalRLongPollingFleet(addresses[0], book, settings.Sources),
        _ => new SignalRWebSocketFleet(addresses[0], book, settings.Sources),
    };

    private async Task<ServerStatus> WaitForAsync(ServerCluster server, string what, Func<ServerStatus, bool> condition, CancellationToken cancellationToken, bool joined = false)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(settings.PhaseTimeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var status = await server.StatusAsync(joined, cancellationToken);
            if (condition(status))
            {
                return status;
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"{Name(target)}, {clients} clients: gave up waiting for {what} after {settings.PhaseTimeout.TotalSeconds} s ({status}).");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
        }
    }

    private async Task WaitForReceiptsAsync(EventBook book, Fleet fleet, long expected, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(settings.PhaseTimeout.TotalSeconds * Stopwatch.Frequency);
        while (book.Received < expected)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                // Not an error here: what is missing counts as lost in the row.
                log.WriteLine($"  gave up waiting after {settings.PhaseTimeout.TotalSeconds} s: {book.Received} of {expected} received, {fleet.Failures} client failures");
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken);
        }
    }

    private static async Task DelayUntilAsync(long started, TimeSpan offset, CancellationToken cancellationToken)
    {
        var remaining = offset - Stopwatch.GetElapsedTime(started);
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining, cancellationToken);
        }
    }

    private static long[] Latencies(EventBook book, int from, int to)
    {
        var values = new List<long>(book.Clients * (to - from));
        for (var c = 0; c < book.Clients; c++)
        {
            for (var i = from; i < to; i++)
            {
                if (book.Has(c, i))
                {
                    values.Add(book.Latency(c, i));
                }
            }
        }

        var array = values.Count == 0 ? [0L] : values.ToArray();
        Array.Sort(array);
        return array;
    }

    /// <summary>Events a client should have and does not (every broadcast; the room posts for room 0's members), and room posts that reached a client outside room 0.</summary>
    private static (long Lost, long Misdelivered) CountLost(EventBook book, int roomStart, int roomPosts)
    {
        long lost = 0, misdelivered = 0;
        for (var c = 0; c < book.Clients; c++)
        {
            var last = c % Rooms.Count == 0 ? roomStart + roomPosts : roomStart;
            for (var i = 0; i < last; i++)
            {
                if (!book.Has(c, i))
                {
                    lost++;
                }
            }

            for (var i = last; i < book.MaxEvents; i++)
            {
                if (book.Has(c, i))
                {
                    // A room post that reached a client outside the room.
                    misdelivered++;
                }
            }
        }

        return (lost, misdelivered);
    }

    private static long Percentile(long[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double Ms(long ticks) => Math.Round(ticks * 1000.0 / Stopwatch.Frequency, 1);
}
