using System.Globalization;
using Comety.LoadTest;

// Comety.LoadTest: N simulated browsers against a Comety server and an ASP.NET Core SignalR server,
// each its own process on 127.0.0.1, in turn. See bench/README.md for what it measures and how.
var options = LoadTestOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(LoadTestOptions.Usage);
    return 2;
}

if (options.Chart)
{
    return await LoadTestChart.RunAsync(options.ChartInput, options.ChartOutput, Console.Out);
}

if (!ResourceLimits.RaiseFileDescriptorLimit(Math.Max(options.Clients.Max(), options.NodeCheckClients), Console.Out)
    || !ResourceLimits.CheckEphemeralPorts(options.Clients.Max(), options.Settings.Sources, Console.Out))
{
    return 2;
}

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

var run = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
var machine = MachineInfo.Describe();
if (options.AppendDuration is { } appendDuration)
{
    return await RunSustainedAppendAsync(options, appendDuration, run, machine, cancel.Token);
}

if (options.RestartServer)
{
    return await RunServerRestartAsync(options, run, machine, cancel.Token);
}

Console.WriteLine($"Run {run} on {machine}; clients from {options.Settings.Sources}.");
var rows = new List<RowResult>();
foreach (var clients in options.Clients)
{
    foreach (var target in options.Targets)
    {
        Console.WriteLine($"{Scenario.Name(target)}, {clients:N0} clients:");
        var row = await new Scenario(target, clients, options.Settings, Console.Out).RunAsync(cancel.Token) with { Run = run, Machine = machine };
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

// The sustained-append case: for each mode, two servers on a new PostgreSQL, posters on both, the log table read back.
static Task<int> RunSustainedAppendAsync(LoadTestOptions options, TimeSpan duration, string run, string machine, CancellationToken cancellationToken)
{
    Console.WriteLine($"Run {run} on {machine}: sustained appends, {options.AppendPosters} posters on each of 2 servers, {duration.TotalSeconds} s per mode.");
    return RunCasesAsync(
        options.AppendModes,
        mode => $"Appends, {SustainedAppendCase.Name(mode)}:",
        async mode => await new SustainedAppendCase(mode, options.AppendPosters, duration, Console.Out).RunAsync(cancellationToken) with { Run = run, Machine = machine },
        AppendResult.MarkdownHeader(),
        options.OutputDirectory is { } directory ? Path.Combine(directory, "loadtest-append") : null,
        "gaps, events missing, duplicated, reordered or unexpected, or failed posts",
        cancellationToken);
}

// A server restarted under load: for each N, two servers on a new PostgreSQL, one killed and started again on its port.
static Task<int> RunServerRestartAsync(LoadTestOptions options, string run, string machine, CancellationToken cancellationToken)
{
    Console.WriteLine($"Run {run} on {machine}: a server restarted under load, 2 servers on one PostgreSQL log, a broadcast every {options.Settings.Interval.TotalMilliseconds} ms; clients from {options.Settings.Sources}.");
    return RunCasesAsync(
        options.Clients,
        clients => $"Restart, {clients:N0} clients:",
        async clients => await new ServerRestartCase(clients, options.Settings.Interval, options.Settings.PhaseTimeout, options.Settings.Sources, Console.Out).RunAsync(cancellationToken) with { Run = run, Machine = machine },
        RestartResult.MarkdownHeader(),
        options.OutputDirectory is { } directory ? Path.Combine(directory, "loadtest-restart") : null,
        "events lost, duplicated or out of order, failures, or affected clients that did not resume on the restarted server",
        cancellationToken);
}

// Runs one case per item, printing each result's JSON line as it ends (appended to <output>.jsonl) and
// the table at the end (written to <output>.md); 1 when any result has faults.
static async Task<int> RunCasesAsync<TItem, TResult>(IEnumerable<TItem> items, Func<TItem, string> title, Func<TItem, Task<TResult>> runCase,
    string header, string? output, string faultsAre, CancellationToken cancellationToken)
    where TResult : ICaseResult
{
    var results = new List<TResult>();
    foreach (var item in items)
    {
        Console.WriteLine(title(item));
        var result = await runCase(item);
        results.Add(result);
        Console.WriteLine(result.ToJson());
        if (output is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(output)!);
            await File.AppendAllTextAsync(output + ".jsonl", result.ToJson() + "\n", cancellationToken);
        }
    }

    var table = header + "\n" + string.Join("\n", results.Select(r => r.ToMarkdown()));
    Console.WriteLine();
    Console.WriteLine(table);
    if (output is not null)
    {
        await File.WriteAllTextAsync(output + ".md", table + "\n", cancellationToken);
    }

    var faults = results.Sum(r => r.Faults);
    if (faults > 0)
    {
        Console.Error.WriteLine($"{faults} {faultsAre}: see the rows above.");
        return 1;
    }

    return 0;
}

/// <summary>The command line.</summary>
internal sealed record LoadTestOptions(IReadOnlyList<int> Clients, IReadOnlyList<Target> Targets, ScenarioSettings Settings, string? OutputDirectory, TimeSpan RunTimeout, int NodeCheckClients)
{
    /// <summary>The <c>chart</c> command: draw the SVG from the JSON lines instead of running.</summary>
    public bool Chart { get; init; }

    public string ChartInput { get; init; } = Path.Combine(LoadTestChart.ResultsDirectory, "loadtest.jsonl");

    public string ChartOutput { get; init; } = Path.Combine(LoadTestChart.ResultsDirectory, "loadtest.svg");

    /// <summary>The sustained-append case instead of the rows: how long each mode posts.</summary>
    public TimeSpan? AppendDuration { get; init; }

    /// <summary>Posters on each server in the sustained-append case.</summary>
    public int AppendPosters { get; init; } = 64;

    public IReadOnlyList<AppendMode> AppendModes { get; init; } = [AppendMode.Batched, AppendMode.BatchOfOne, AppendMode.Transaction];

    /// <summary>The restart case instead of the rows: a server of two on one PostgreSQL log killed and started again under load.</summary>
    public bool RestartServer { get; init; }

    public const string Usage = """
        usage: Comety.LoadTest [--clients 1000,5000,10000] [--targets comety,comety-stream,signalr-lp,signalr-ws]
                               [--events 20] [--interval-ms 200] [--source-addresses K] [--out DIRECTORY] [--smoke]
                               [--stream-duration SECONDS] [--cut-streams SECONDS]
               Comety.LoadTest --append SECONDS [--append-posters 64] [--append-modes batched,batch1,transaction] [--out DIRECTORY]
               Comety.LoadTest --restart-server [--clients 5000] [--interval-ms 200] [--source-addresses K] [--out DIRECTORY]
               Comety.LoadTest --node-check 1000
               Comety.LoadTest chart [--in results/loadtest.jsonl] [--svg results/loadtest.svg]
          --clients   simulated browsers per row (each its own connection)
          --targets   comety (LongPolling), comety-stream (Streaming), signalr-lp (LongPolling), signalr-ws (WebSockets),
                      comety-pg2 (LongPolling, two Comety servers on a PostgreSQL of the run's own, each request to either;
                      not in the default targets)
          --source-addresses K  bind the clients' sockets to 127.0.0.2 .. 127.0.0.(K+1) in turn (1 to 64), so
                      that the ephemeral ports of one address do not bound the connections (20,000 clients)
          --stream-duration S  the Comety server's StreamDuration (default: the server's, 60 s); under 15 s, its
                      StreamKeepAliveInterval becomes half of it
          --cut-streams S  Comety streaming clients close each stream after 0.5 to 1.5 × S and resume
                      with Last-Event-ID: a check that resuming loses and repeats nothing, not a measurement
          --events    K: events broadcast one per interval, then K at once; then 50 posts to one room, two per interval
          --out       appends one JSON line per row to DIRECTORY/loadtest.jsonl, writes DIRECTORY/loadtest.md
          --smoke     50 clients, 5 events: checks the harness and both servers in a few seconds
          --append S  the sustained-append case instead of the rows: for each mode, two Comety servers on a new
                      PostgreSQL, posters on both posting broadcasts back to back for S seconds (at most 60), then the
                      log table read back (sequence numbers 1..N with no gap, each posted event exactly once, in order);
                      with --out, rows go to DIRECTORY/loadtest-append.jsonl and loadtest-append.md
          --append-posters P  concurrent posters on each server (1 to 500)
          --append-modes  batched (posts that arrive together in one transaction), batch1 (the log's MaxAppendBatch
                      at 1), transaction (each post its own transaction, through the transactional API)
          --restart-server  the restart case instead of the rows: two Comety servers on a new PostgreSQL, N clients
                      (default 5,000) polling either at random and retrying failed polls as comety.js does (1 s, doubling
                      to 30 s), a broadcast per interval through one server while the other is killed (SIGKILL) and
                      started again on its port; how soon the clients that failed on it are answered by it again, and
                      every broadcast once, in order; with --out, rows go to DIRECTORY/loadtest-restart.jsonl and .md
          --node-check N  N clients of SignalR's npm client (@microsoft/signalr, under Node) on long
                      polling, then N of this program's long-polling fleet: same messages, same memory?
          chart       draws the latest run's rows of loadtest.jsonl (broadcast p99, server CPU per delivered
                      event, against N) into loadtest.svg
        """;

    public static LoadTestOptions? Parse(string[] args)
    {
        IReadOnlyList<int>? clients = null;
        IReadOnlyList<Target>? targets = null;
        var events = 20;
        var interval = TimeSpan.FromMilliseconds(200);
        string? output = null;
        var nodeCheck = 0;
        var sourceAddresses = 0;
        TimeSpan? streamDuration = null;
        TimeSpan? cutStreams = null;
        var chart = args.Length > 0 && args[0] == "chart";
        string? chartInput = null;
        string? chartOutput = null;
        TimeSpan? appendDuration = null;
        var appendPosters = 64;
        IReadOnlyList<AppendMode>? appendModes = null;
        var restartServer = false;
        for (var i = chart ? 1 : 0; i < args.Length; i++)
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
                case "--source-addresses":
                    sourceAddresses = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--stream-duration":
                    streamDuration = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture));
                    break;
                case "--cut-streams":
                    cutStreams = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture));
                    break;
                case "--in" when chart:
                    chartInput = Next();
                    break;
                case "--svg" when chart:
                    chartOutput = Next();
                    break;
                case "--append":
                    appendDuration = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture));
                    break;
                case "--append-posters":
                    appendPosters = int.Parse(Next(), CultureInfo.InvariantCulture);
                    break;
                case "--append-modes":
                    appendModes = [.. Next().Split(',').Select(ParseAppendMode)];
                    break;
                case "--restart-server":
                    restartServer = true;
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

        clients ??= restartServer ? [5000] : [1000, 5000, 10000];
        targets ??= [Target.Comety, Target.CometyStreaming, Target.SignalRLongPolling, Target.SignalRWebSockets];
        if (clients.Count == 0 || clients.Any(c => c < 1 || c > 50_000) || events < 1 || events > 1000
            || sourceAddresses < 0 || sourceAddresses > SourceAddresses.MaxCount
            || streamDuration <= TimeSpan.Zero || cutStreams <= TimeSpan.Zero
            || appendDuration <= TimeSpan.Zero || appendDuration > TimeSpan.FromSeconds(60) || appendPosters < 1 || appendPosters > 500)
        {
            return null;
        }

        var settings = new ScenarioSettings(events, interval, RoomPosts: 50, WarmUpEvents: 3, ConnectConcurrency: 64, PhaseTimeout: TimeSpan.FromSeconds(120),
            SourceAddresses.Loopback(sourceAddresses), streamDuration, cutStreams);
        var options = new LoadTestOptions(clients, targets, settings, output, RunTimeout: TimeSpan.FromMinutes(60), nodeCheck) { Chart = chart };
        return options with
        {
            ChartInput = chartInput ?? options.ChartInput,
            ChartOutput = chartOutput ?? options.ChartOutput,
            AppendDuration = appendDuration,
            AppendPosters = appendPosters,
            AppendModes = appendModes ?? options.AppendModes,
            RestartServer = restartServer,
        };
    }

    private static AppendMode ParseAppendMode(string value) => value switch
    {
        "batched" => AppendMode.Batched,
        "batch1" => AppendMode.BatchOfOne,
        "transaction" => AppendMode.Transaction,
        _ => throw new ArgumentException($"Unknown append mode '{value}': use batched, batch1 or transaction."),
    };

    private static Target ParseTarget(string value) => value switch
    {
        "comety" => Target.Comety,
        "comety-stream" => Target.CometyStreaming,
        "comety-pg2" => Target.CometyPostgreSql2,
        "signalr-lp" => Target.SignalRLongPolling,
        "signalr-ws" => Target.SignalRWebSockets,
        _ => throw new ArgumentException($"Unknown target '{value}': use comety, comety-stream, comety-pg2, signalr-lp or signalr-ws."),
    };
}
