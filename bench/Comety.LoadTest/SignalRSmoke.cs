using System.Diagnostics;
using System.Globalization;

namespace Comety.LoadTest;

/// <summary>
/// A quick check of the SignalR fleets and server, until the orchestrator runs them: for each
/// transport and fleet size, a fresh server, every client connected and joined, 5 broadcasts
/// 200 ms apart, a burst of 5, 3 ticks to room-0; then every count must be exact.
/// Arguments: <c>[LongPolling|WebSockets|both] [sizes, comma-separated] [seconds to hold every client idle before the ticks]</c>, or
/// <c>node [clients] [events]</c> for <see cref="NodeCheck"/>.
/// </summary>
internal static class SignalRSmoke
{
    private const int Broadcasts = 5;
    private const int BurstCount = 5;
    private const int RoomTicks = 3;
    private const int Events = Broadcasts + BurstCount + RoomTicks;
    private const int ConnectConcurrency = 100;
    private const int WarmUpClients = 20;
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(120);

    public static async Task<int> RunAsync(string[] args)
    {
        Console.WriteLine(FormattableString.Invariant($"Stopwatch.Frequency = {Stopwatch.Frequency}"));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(30));
        if (args is ["node", ..])
        {
            var clients = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000;
            var events = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10;
            var result = await NodeCheck.RunAsync(clients, events, Console.Out, cancel.Token);
            Console.WriteLine(result.ToMarkdown());
            return result.Exact ? 0 : 1;
        }

        string[] transports = args.Length > 0 && args[0] != "both" ? [args[0]] : ["LongPolling", "WebSockets"];
        var sizes = args.Length > 1
            ? args[1].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray()
            : [200, 2000];
        var idleSeconds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0;
        var exact = true;
        foreach (var transport in transports)
        {
            foreach (var size in sizes)
            {
                exact &= await RoundAsync(transport, size, idleSeconds, cancel.Token);
            }
        }

        return exact ? 0 : 1;
    }

    private static long Pings(Fleet fleet) => fleet switch
    {
        SignalRLongPollingFleet lp => lp.PingsReceived,
        SignalRWebSocketFleet ws => ws.PingsReceived,
        _ => 0,
    };

    private static Fleet CreateFleet(string transport, Uri server, EventBook book) => transport == "WebSockets"
        ? new SignalRWebSocketFleet(server, book)
        : new SignalRLongPollingFleet(server, book);

    private static async Task<bool> RoundAsync(string transport, int count, int idleSeconds, CancellationToken cancellationToken)
    {
        Console.WriteLine(FormattableString.Invariant($"--- SignalR {transport}, {count} clients"));
        await using var server = await ServerProcess.StartAsync("Comety.LoadTest.SignalRServer", "--transport", transport);

        // A few clients first, who receive a broadcast and a room tick and leave, so that the idle figure includes the code.
        var warmBook = new EventBook(WarmUpClients, 2);
        await using (var warm = CreateFleet(transport, server.Address, warmBook))
        {
            await warm.ConnectAsync(WarmUpClients, ConnectConcurrency, cancellationToken);
            await WaitForAsync("warm-up clients joined", async () => (await server.StatusAsync(joined: true, cancellationToken)).Joined == WarmUpClients, cancellationToken);
            await server.BroadcastAsync(0, cancellationToken);
            await server.PostToRoomAsync(Rooms.Name(0), 1, cancellationToken);
            await WaitForAsync("warm-up receipts", () => Task.FromResult(warmBook.Received == WarmUpClients + 1), cancellationToken);
        }

        await WaitForAsync("warm-up clients gone", async () => (await server.StatusAsync(cancellationToken: cancellationToken)).Waiting == 0, cancellationToken);
        await server.CollectGarbageAsync(cancellationToken);
        var idleRss = server.ResidentBytes();
        var joinedBefore = (await server.StatusAsync(joined: true, cancellationToken)).Joined;
        var book = new EventBook(count, Events);
        var fleet = CreateFleet(transport, server.Address, book);
        var failures = 0L;
        string? firstFailure = null;
        try
        {
            var watch = Stopwatch.StartNew();
            await fleet.ConnectAsync(count, ConnectConcurrency, cancellationToken);
            var connected = watch.Elapsed;
            await WaitForAsync("every client waiting and joined", async () =>
            {
                var status = await server.StatusAsync(joined: true, cancellationToken);
                return status.Waiting == count && status.Joined - joinedBefore == count;
            }, cancellationToken);
            Console.WriteLine(FormattableString.Invariant($"connected in {connected.TotalSeconds:F1} s, waiting and joined after {watch.Elapsed.TotalSeconds:F1} s"));

            var heap = await server.CollectGarbageAsync(cancellationToken);
            var rss = server.ResidentBytes();
            Console.WriteLine(FormattableString.Invariant(
                $"server RSS idle {idleRss / 1024} KB, with clients {rss / 1024} KB: {(rss - idleRss) / 1024.0 / count:F1} KB per client; managed heap {heap.HeapBytes / 1024} KB"));

            if (idleSeconds > 0)
            {
                // Past the server's 15 s keep-alive pings, its 30 s client timeout and its 90 s long-poll timeout.
                Console.WriteLine(FormattableString.Invariant($"holding every client idle for {idleSeconds} s"));
                for (var second = 0; second < idleSeconds; second += 10)
                {
                    var idleCpu = server.CpuTime();
                    var seconds = Math.Min(10, idleSeconds - second);
                    await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken);
                    var status = await server.StatusAsync(cancellationToken: cancellationToken);
                    Console.WriteLine(FormattableString.Invariant(
                        $"  idle {second + seconds} s: {status.Waiting} waiting, {fleet.Failures} failures, {Pings(fleet)} pings from the server so far, server CPU {(server.CpuTime() - idleCpu).TotalMilliseconds / seconds / 10:F1}%"));
                }
            }

            var cpuBefore = server.CpuTime();
            for (var i = 0; i < Broadcasts; i++)
            {
                await server.BroadcastAsync(i, cancellationToken);
                await Task.Delay(200, cancellationToken);
            }

            await server.BurstAsync(Broadcasts, BurstCount, cancellationToken);
            await Task.Delay(200, cancellationToken);
            for (var i = 0; i < RoomTicks; i++)
            {
                await server.PostToRoomAsync(Rooms.Name(0), Broadcasts + BurstCount + i, cancellationToken);
            }

            var inRoom0 = (count + Rooms.Count - 1) / Rooms.Count;
            var expected = ((long)count * (Broadcasts + BurstCount)) + ((long)inRoom0 * RoomTicks);
            await WaitForAsync(FormattableString.Invariant($"{expected} receipts"), () => Task.FromResult(book.Received >= expected), cancellationToken);

            // Anything more (a duplicate, a room tick to the wrong client) would come within a second.
            await Task.Delay(1000, cancellationToken);
            var cpu = server.CpuTime() - cpuBefore;
            var wrong = 0;
            for (var c = 0; c < count; c++)
            {
                for (var i = 0; i < Events; i++)
                {
                    var shouldHave = i < Broadcasts + BurstCount || c % Rooms.Count == 0;
                    if (book.Has(c, i) != shouldHave)
                    {
                        wrong++;
                    }
                }
            }

            failures = fleet.Failures;
            firstFailure = fleet switch
            {
                SignalRLongPollingFleet lp => lp.FirstFailure,
                SignalRWebSocketFleet ws => ws.FirstFailure,
                _ => null,
            };
            Console.WriteLine(FormattableString.Invariant(
                $"received {book.Received} of {expected}, duplicates {book.Duplicates}, out of order {book.OutOfOrder}, unexpected {book.Unexpected}, wrong (client, event) pairs {wrong}, failures {failures}"));
            Console.WriteLine(FormattableString.Invariant(
                $"latency all: {LatencyPercentiles.Of(book, 0, Events)}; broadcasts 200 ms apart: {LatencyPercentiles.Of(book, 0, Broadcasts)}; burst: {LatencyPercentiles.Of(book, Broadcasts, BurstCount)}; server CPU {cpu.TotalMilliseconds:F0} ms"));
            if (firstFailure is not null)
            {
                Console.WriteLine("first failure: " + firstFailure);
            }

            return book.Received == expected && book.Duplicates == 0 && book.OutOfOrder == 0 && book.Unexpected == 0 && wrong == 0 && failures == 0;
        }
        finally
        {
            var watch = Stopwatch.StartNew();
            await fleet.DisposeAsync();
            var closed = watch.Elapsed;
            await WaitForAsync("every client gone from the server", async () => (await server.StatusAsync(cancellationToken: cancellationToken)).Waiting == 0, cancellationToken);
            Console.WriteLine(FormattableString.Invariant(
                $"fleet closed in {closed.TotalSeconds:F1} s, gone from the server after {watch.Elapsed.TotalSeconds:F1} s; failures after closing {fleet.Failures - failures}"));
        }
    }

    /// <summary>Polls <paramref name="condition"/> every 100 ms until it holds; throws after <see cref="WaitTimeout"/>.</summary>
    private static async Task WaitForAsync(string what, Func<Task<bool>> condition, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > WaitTimeout)
            {
                throw new TimeoutException($"No {what} after {WaitTimeout.TotalSeconds} s.");
            }

            await Task.Delay(100, cancellationToken);
        }
    }
}
