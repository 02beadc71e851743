using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace Comety.LoadTest;

/// <summary>
/// Checks <see cref="SignalRLongPollingFleet"/> against SignalR's own JavaScript client
/// (<c>node/signalr-clients.mjs</c>): the same number of clients on long polling, each on a fresh
/// server, the same broadcasts; what each received, and what each cost the server in memory.
/// </summary>
internal static class NodeCheck
{
    private const string Server = "Comety.LoadTest.SignalRServer";
    private const int ConnectConcurrency = 100;
    private const int WarmUpClients = 20;
    private static readonly TimeSpan NpmTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan NodeExitTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan EventInterval = TimeSpan.FromMilliseconds(200);

    public static async Task<NodeCheckResult> RunAsync(int clients, int events, TextWriter log, CancellationToken ct)
    {
        var folder = Path.Combine(BenchDirectory(), "Comety.LoadTest", "node");
        if (!Directory.Exists(Path.Combine(folder, "node_modules")))
        {
            await NpmInstallAsync(folder, log, ct);
        }

        var node = await RunNodeAsync(folder, clients, events, log, ct);
        var dotnet = await RunFleetAsync(clients, events, log, ct);
        return new NodeCheckResult(clients, events, node, dotnet);
    }

    private static async Task<NodeCheckFigures> RunNodeAsync(string folder, int clients, int events, TextWriter log, CancellationToken ct)
    {
        await log.WriteLineAsync(FormattableString.Invariant($"node check: SignalR's JavaScript client, {clients} clients on long polling"));
        await using var server = await ServerProcess.StartAsync(Server, "--transport", "LongPolling");
        var idle = await WarmUpAsync(server, ct);

        var timeoutSeconds = (int)WaitTimeout.TotalSeconds;
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder,
        };
        start.ArgumentList.Add("signalr-clients.mjs");
        start.ArgumentList.Add(new Uri(server.Address, "hub").ToString());
        start.ArgumentList.Add(clients.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(events.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(timeoutSeconds.ToString(CultureInfo.InvariantCulture));

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start node.");
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var report = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var errorLines = 0;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == "READY")
            {
                ready.TrySetResult();
            }
            else if (e.Data?.StartsWith('{') == true)
            {
                report.TrySetResult(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            // The first lines only: a failing client could otherwise print one per client.
            if (!string.IsNullOrEmpty(e.Data) && Interlocked.Increment(ref errorLines) <= 20)
            {
                lock (log)
                {
                    log.WriteLine("[node] " + e.Data);
                }
            }
        };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) =>
        {
            var failed = new InvalidOperationException($"node exited with code {process.ExitCode} before it reported.");
            ready.TrySetException(failed);
            report.TrySetException(failed);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var watch = Stopwatch.StartNew();
            await ready.Task.WaitAsync(WaitTimeout, ct);
            await WaitForStatusAsync(server, clients, idle.Joined, ct);
            await log.WriteLineAsync(FormattableString.Invariant($"node clients ready and waiting after {watch.Elapsed.TotalSeconds:F1} s"));
            var (rssPerClient, heapPerClient, descriptors) = await RssPerClientAsync(server, idle, clients, ct);
            await BroadcastAsync(server, events, ct);

            var line = await report.Task.WaitAsync(WaitTimeout + WaitTimeout, ct);
            var figures = JsonSerializer.Deserialize<NodeReport>(line, JsonOptions) ?? throw new InvalidDataException("node reported null.");
            await process.WaitForExitAsync(ct).WaitAsync(NodeExitTimeout, ct);
            return new NodeCheckFigures(
                figures.Received, figures.Lost, figures.Duplicates, figures.OutOfOrder, figures.Unexpected, figures.Failures,
                rssPerClient, heapPerClient, descriptors, figures.P50Ms ?? double.NaN, figures.P99Ms ?? double.NaN, figures.MaxMs ?? double.NaN);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).WaitAsync(NodeExitTimeout, CancellationToken.None);
            }
        }
    }

    private static async Task<NodeCheckFigures> RunFleetAsync(int clients, int events, TextWriter log, CancellationToken ct)
    {
        await log.WriteLineAsync(FormattableString.Invariant($"node check: SignalRLongPollingFleet, {clients} clients"));
        await using var server = await ServerProcess.StartAsync(Server, "--transport", "LongPolling");
        var idle = await WarmUpAsync(server, ct);
        var book = new EventBook(clients, events);
        var fleet = new SignalRLongPollingFleet(server.Address, book);
        await using (fleet)
        {
            var watch = Stopwatch.StartNew();
            await fleet.ConnectAsync(clients, ConnectConcurrency, ct);
            await WaitForStatusAsync(server, clients, idle.Joined, ct);
            await log.WriteLineAsync(FormattableString.Invariant($"fleet clients ready and waiting after {watch.Elapsed.TotalSeconds:F1} s"));
            var (rssPerClient, heapPerClient, descriptors) = await RssPerClientAsync(server, idle, clients, ct);
            await BroadcastAsync(server, events, ct);

            var expected = (long)clients * events;
            var deadline = Stopwatch.StartNew();
            while (book.Received < expected && deadline.Elapsed < WaitTimeout)
            {
                await Task.Delay(100, ct);
            }

            // Anything more (a duplicate) would come within a second.
            await Task.Delay(1000, ct);
            var latency = LatencyPercentiles.Of(book, 0, events);
            return new NodeCheckFigures(
                book.Received, expected - book.Received, book.Duplicates, book.OutOfOrder, book.Unexpected, fleet.Failures,
                rssPerClient, heapPerClient, descriptors, latency.P50Ms, latency.P99Ms, latency.MaxMs);
        }
    }

    /// <summary>
    /// Runs a few clients of <see cref="SignalRLongPollingFleet"/> through a broadcast and a room tick, and
    /// has them leave, so that the idle figure includes the server's code for them; the same for both sides.
    /// </summary>
    private static async Task<Idle> WarmUpAsync(ServerProcess server, CancellationToken ct)
    {
        var book = new EventBook(WarmUpClients, 2);
        await using (var warm = new SignalRLongPollingFleet(server.Address, book))
        {
            await warm.ConnectAsync(WarmUpClients, ConnectConcurrency, ct);
            await WaitForStatusAsync(server, WarmUpClients, 0, ct);
            await server.BroadcastAsync(0, ct);
            await server.PostToRoomAsync(Rooms.Name(0), 1, ct);
            var deadline = Stopwatch.StartNew();
            while (book.Received < WarmUpClients + 1 && deadline.Elapsed < WaitTimeout)
            {
                await Task.Delay(100, ct);
            }
        }

        await WaitForStatusAsync(server, 0, 0, ct, joined: false);
        var heap = (await server.CollectGarbageAsync(ct)).HeapBytes;
        return new Idle(server.ResidentBytes(), heap, (await server.StatusAsync(joined: true, ct)).Joined);
    }

    /// <summary>Waits until the server has <paramref name="clients"/> polls waiting and (when asked) that many more clients joined than before.</summary>
    private static async Task WaitForStatusAsync(ServerProcess server, int clients, int joinedBefore, CancellationToken ct, bool joined = true)
    {
        var deadline = Stopwatch.StartNew();
        for (var status = await server.StatusAsync(joined, ct);
            status.Waiting != clients || (joined && status.Joined - joinedBefore != clients);
            status = await server.StatusAsync(joined, ct))
        {
            if (deadline.Elapsed > WaitTimeout)
            {
                throw new TimeoutException($"After {WaitTimeout.TotalSeconds} s the server has {status.Waiting} polls waiting and {status.Joined - joinedBefore} clients joined, not {clients}.");
            }

            await Task.Delay(100, ct);
        }
    }

    private static async Task<(double RssKbPerClient, double HeapKbPerClient, int Descriptors)> RssPerClientAsync(ServerProcess server, Idle idle, int clients, CancellationToken ct)
    {
        var heap = (await server.CollectGarbageAsync(ct)).HeapBytes;
        return (
            (server.ResidentBytes() - idle.Rss) / 1024.0 / clients,
            (heap - idle.HeapBytes) / 1024.0 / clients,
            Directory.GetFileSystemEntries($"/proc/{server.ProcessId}/fd").Length);
    }

    /// <summary>The server after its warm-up: resident and managed memory, and its count of joins.</summary>
    private readonly record struct Idle(long Rss, long HeapBytes, int Joined);

    private static async Task BroadcastAsync(ServerProcess server, int events, CancellationToken ct)
    {
        for (var i = 0; i < events; i++)
        {
            if (i > 0)
            {
                await Task.Delay(EventInterval, ct);
            }

            await server.BroadcastAsync(i, ct);
        }
    }

    private static async Task NpmInstallAsync(string folder, TextWriter log, CancellationToken ct)
    {
        await log.WriteLineAsync("node check: npm install in " + folder);
        var start = new ProcessStartInfo("npm")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder,
        };
        start.ArgumentList.Add("install");
        start.ArgumentList.Add("--no-audit");
        start.ArgumentList.Add("--no-fund");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start npm.");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        try
        {
            await process.WaitForExitAsync(ct).WaitAsync(NpmTimeout, ct);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"npm install failed ({process.ExitCode}): {await output} {await error}");
        }
    }

    private static string BenchDirectory() =>
        typeof(NodeCheck).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BenchDirectory").Value!;

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    /// <summary>The line signalr-clients.mjs prints.</summary>
    private sealed record NodeReport(
        int Clients, long Received, long Duplicates, long OutOfOrder, long Lost, long Unexpected, long Failures, double? P50Ms, double? P99Ms, double? MaxMs);
}

/// <summary>What one side of the node check measured; memory and descriptors with every client's poll waiting.</summary>
internal sealed record NodeCheckFigures(
    long Received, long Lost, long Duplicates, long OutOfOrder, long Unexpected, long Failures, double RssKbPerClient, double HeapKbPerClient, int ServerDescriptors, double P50Ms, double P99Ms, double MaxMs);

/// <summary>SignalR's JavaScript client and <see cref="SignalRLongPollingFleet"/>, the same clients and broadcasts on long polling.</summary>
internal sealed record NodeCheckResult(int Clients, int Events, NodeCheckFigures Node, NodeCheckFigures Fleet)
{
    /// <summary>Whether both sides received every event exactly once, in order, with no client failing.</summary>
    public bool Exact => IsExact(Node) && IsExact(Fleet);

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"SignalR long polling, {Clients:N0} clients, {Events} broadcasts 200 ms apart, each on a fresh server:\n\n");
        text.Append("| client | received | lost | duplicates | out of order | failures | server RSS per waiting client | server managed heap per waiting client | server file descriptors | p50 | p99 | max |\n");
        text.Append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        Row(text, "@microsoft/signalr (node)", Node);
        Row(text, "SignalRLongPollingFleet", Fleet);
        return text.ToString();
    }

    private static void Row(StringBuilder text, string name, NodeCheckFigures f) =>
        text.Append(CultureInfo.InvariantCulture,
            $"| {name} | {f.Received:N0} | {f.Lost:N0} | {f.Duplicates:N0} | {f.OutOfOrder:N0} | {f.Failures:N0} | {f.RssKbPerClient:F1} KB | {f.HeapKbPerClient:F1} KB | {f.ServerDescriptors:N0} | {f.P50Ms:F1} ms | {f.P99Ms:F1} ms | {f.MaxMs:F1} ms |\n");

    private static bool IsExact(NodeCheckFigures f) =>
        f.Lost == 0 && f.Duplicates == 0 && f.OutOfOrder == 0 && f.Unexpected == 0 && f.Failures == 0;
}

/// <summary>Latency percentiles of what an <see cref="EventBook"/> received.</summary>
internal readonly record struct LatencyPercentiles(int Count, double P50Ms, double P99Ms, double MaxMs)
{
    /// <summary>Over events <paramref name="first"/> .. <paramref name="first"/>+<paramref name="count"/>-1 of every client (nearest rank).</summary>
    public static LatencyPercentiles Of(EventBook book, int first, int count)
    {
        var latencies = new List<long>();
        for (var c = 0; c < book.Clients; c++)
        {
            for (var i = first; i < first + count; i++)
            {
                if (book.Has(c, i))
                {
                    latencies.Add(book.Latency(c, i));
                }
            }
        }

        if (latencies.Count == 0)
        {
            return new LatencyPercentiles(0, double.NaN, double.NaN, double.NaN);
        }

        latencies.Sort();
        double Ms(double p) => latencies[Math.Max(0, (int)Math.Ceiling(p * latencies.Count) - 1)] * 1000.0 / Stopwatch.Frequency;
        return new LatencyPercentiles(latencies.Count, Ms(0.50), Ms(0.99), Ms(1.0));
    }

    public override string ToString() =>
        Count == 0 ? "none" : FormattableString.Invariant($"p50 {P50Ms:F1} ms, p99 {P99Ms:F1} ms, max {MaxMs:F1} ms (n={Count})");
}
