using System.Globalization;
using System.Runtime.InteropServices;
using Comety.LoadTest;

// Comety.LoadTest: N simulated browsers against a Comety server and an ASP.NET Core SignalR server,
// each its own process on 127.0.0.1, in turn. See bench/README.md for what it measures and how.
var options = LoadTestOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(LoadTestOptions.Usage);
    return 2;
}

ResourceLimits.RaiseFileDescriptorLimit(Math.Max(options.Clients.Max(), options.NodeCheckClients), Console.Out);
using var cancel = new CancellationTokenSource(options.RunTimeout);
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

if (options.NodeCheckClients > 0)
{
    // SignalR's own JavaScript client against the hand-written long-polling fleet, same server and broadcasts.
    var check = await NodeCheck.RunAsync(options.NodeCheckClients, 10, Console.Out, cancel.Token);
    Console.WriteLine(check.ToMarkdown());
    return 0;
}

var rows = new List<RowResult>();
foreach (var clients in options.Clients)
{
    foreach (var target in options.Targets)
    {
        Console.WriteLine($"{Scenario.Name(target)}, {clients:N0} clients:");
        var row = await new Scenario(target, clients, options.Settings, Console.Out).RunAsync(cancel.Token);
        rows.Add(row);
        Console.WriteLine(row.ToJson());
        if (options.OutputDirectory is { } directory)
        {
            Directory.CreateDirectory(directory);
            await File.AppendAllTextAsync(Path.Combine(directory, "loadtest.jsonl"), row.ToJson() + "\n", cancel.Token);
        }
    }
}

var table = RowResult.MarkdownHeader() + "\n" + string.Join("\n", rows.Select(r => r.ToMarkdown()));
Console.WriteLine();
Console.WriteLine(table);
if (options.OutputDirectory is { } output)
{
    await File.WriteAllTextAsync(Path.Combine(output, "loadtest.md"), table + "\n", cancel.Token);
}

var faults = rows.Sum(r => r.Lost + r.Misdelivered + r.Duplicated + r.OutOfOrder + r.Unexpected + r.ClientFailures);
if (faults > 0)
{
    Console.Error.WriteLine($"{faults} events lost, misdelivered, duplicated or out of order, or clients failed: see the rows above.");
    return 1;
}

return 0;

/// <summary>The command line.</summary>
internal sealed record LoadTestOptions(IReadOnlyList<int> Clients, IReadOnlyList<Target> Targets, ScenarioSettings Settings, string? OutputDirectory, TimeSpan RunTimeout, int NodeCheckClients)
{
    public const string Usage = """
        usage: Comety.LoadTest [--clients 1000,5000,10000] [--targets comety,signalr-lp,signalr-ws]
                               [--events 20] [--interval-ms 200] [--out DIRECTORY] [--smoke]
               Comety.LoadTest --node-check 1000
          --clients   simulated browsers per row (each its own connection)
          --targets   comety, signalr-lp (LongPolling), signalr-ws (WebSockets)
          --events    K: events broadcast one per interval, then K at once; then 50 posts to one room, two per interval
          --out       appends one JSON line per row to DIRECTORY/loadtest.jsonl, writes DIRECTORY/loadtest.md
          --smoke     50 clients, 5 events: checks the harness and both servers in a few seconds
          --node-check N  N clients of SignalR's npm client (@microsoft/signalr, under Node) on long
                      polling, then N of this program's long-polling fleet: same messages, same memory?
        """;

    public static LoadTestOptions? Parse(string[] args)
    {
        IReadOnlyList<int> clients = [1000, 5000, 10000];
        IReadOnlyList<Target> targets = [Target.Comety, Target.SignalRLongPolling, Target.SignalRWebSockets];
        var events = 20;
        var interval = TimeSpan.FromMilliseconds(200);
        string? output = null;
        var nodeCheck = 0;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--clients":
                    clients = [.. Next().Split(',').Select(v => int.Parse(v, NumberStyles.AllowThousands, CultureInfo.InvariantCulture))];
                    break;
                case "--targets":
                    targets = [.. Next().Split(',').Select(ParseTarget)];
                    break;
                case "--events":
                    events = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--interval-ms":
                    interval = TimeSpan.FromMilliseconds(int.Parse(Next(), CultureInfo.InvariantCulture));
                    break;
                case "--out":
                    output = Next();
                    break;
                case "--node-check":
                    nodeCheck = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--smoke":
                    clients = [50];
                    events = 5;
                    interval = TimeSpan.FromMilliseconds(50);
                    break;
                default:
                    return null;
            }
        }

        if (clients.Count == 0 || clients.Any(c => c < 1 || c > 50_000) || events < 1 || events > 1000)
        {
            return null;
        }

        var settings = new ScenarioSettings(events, interval, RoomPosts: 50, WarmUpEvents: 3, ConnectConcurrency: 64, PhaseTimeout: TimeSpan.FromSeconds(120));
        return new LoadTestOptions(clients, targets, settings, output, RunTimeout: TimeSpan.FromMinutes(60), nodeCheck);
    }

    private static Target ParseTarget(string value) => value switch
    {
        "comety" => Target.Comety,
        "signalr-lp" => Target.SignalRLongPolling,
        "signalr-ws" => Target.SignalRWebSockets,
        _ => throw new ArgumentException($"Unknown target '{value}': use comety, signalr-lp or signalr-ws."),
    };
}

/// <summary>Raises this process's open-file limit (its children inherit it) to what the clients need.</summary>
internal static partial class ResourceLimits
{
    private const int RlimitNofile = 7;

    public static void RaiseFileDescriptorLimit(int clients, TextWriter log)
    {
        if (!OperatingSystem.IsLinux() || GetRLimit(RlimitNofile, out var limit) != 0)
        {
            return;
        }

        // Each client is one socket here and one in the server; leave room for everything else.
        var needed = (ulong)clients + 1024;
        if (limit.Current < limit.Maximum)
        {
            var raised = limit with { Current = limit.Maximum };
            if (SetRLimit(RlimitNofile, in raised) == 0)
            {
                log.WriteLine($"Open-file limit raised from {limit.Current} to {limit.Maximum} (this process and the servers it starts).");
                limit = raised;
            }
        }

        if (limit.Current < needed)
        {
            log.WriteLine($"Warning: the open-file limit is {limit.Current}; {clients} clients need about {needed}. Raise it (ulimit -Hn, as root) or connections will fail.");
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct RLimit(ulong Current, ulong Maximum);

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);
}
