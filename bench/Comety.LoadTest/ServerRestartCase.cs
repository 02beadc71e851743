using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Comety.LoadTest;

/// <summary>
/// A server restarted under load: two Comety servers on one PostgreSQL log (as <c>comety-pg2</c>),
/// N long-polling clients each sending every request to either server at random and retrying a
/// failed poll as comety.js does (<see cref="RetryPolicy.Script"/>), broadcasts one per interval
/// through the server that stays up. Server 0 is killed with SIGKILL and started again on the same
/// port; t0 is when it first answers a poll (of the harness's own user, asked every 10 ms; its
/// <c>/bench/status</c>, a health check, answers earlier). For every client whose poll went to it
/// and failed: how long after t0 it next has a poll answered by the restarted server, and how long
/// after that failure it has any poll answered. Then every client must have every broadcast once,
/// in order.
/// </summary>
internal sealed class ServerRestartCase(int clients, TimeSpan interval, TimeSpan phaseTimeout, SourceAddresses sources, TextWriter log)
{
    private const int Restarted = 0;
    private const int StaysUp = 1;
    private const int WarmUpEvents = 3;
    private static readonly TimeSpan BeforeKill = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan AfterResume = TimeSpan.FromSeconds(1);

    public async Task<RestartResult> RunAsync(CancellationToken cancellationToken)
    {
        var loadBefore = LoadAverage();
        await using var cluster = await ServerCluster.StartOnPostgreSqlAsync(2, [], cancellationToken);
        log.WriteLine($"  {cluster.Describe()}");

        // Room for every broadcast the case can post: before the kill, the outage, the resume's bound, after it.
        var maxEvents = WarmUpEvents + (int)((BeforeKill + phaseTimeout + phaseTimeout + AfterResume + TimeSpan.FromSeconds(5)) / interval);
        var book = new EventBook(clients, maxEvents);
        var watch = new RestartWatch(clients);
        var fleet = new CometyFleet(cluster.Addresses, book, sources, RetryPolicy.Script, watch);
        var broadcasts = 0;
        var broadcastFailures = 0L;
        string? firstBroadcastFailure = null;
        try
        {
            var connectStarted = Stopwatch.GetTimestamp();
            await fleet.ConnectAsync(clients, 64, cancellationToken);
            await WaitForAsync(() => cluster.StatusAsync(joined: true, cancellationToken), s => s.Joined >= clients, "every client in its room", cancellationToken);
            await WaitForAsync(() => cluster.StatusAsync(cancellationToken: cancellationToken), s => s.Waiting >= clients, "every client waiting", cancellationToken);
            log.WriteLine($"  {clients} clients connected and waiting in {Stopwatch.GetElapsedTime(connectStarted).TotalSeconds:0.0} s");

            // Broadcasts through the server that stays up, one per interval, each awaited (the log's order is the indices'), until told to stop.
            using var stopBroadcasts = new CancellationTokenSource();
            var broadcaster = Task.Run(async () =>
            {
                var started = Stopwatch.GetTimestamp();
                for (var i = 0; i < maxEvents && !stopBroadcasts.IsCancellationRequested; i++)
                {
                    try
                    {
                        await cluster.Servers[StaysUp].BroadcastAsync(i, cancellationToken);
                        broadcasts = i + 1;
                    }
                    catch (HttpRequestException e)
                    {
                        // Not retried: its index would be missing everywhere and counted lost.
                        if (Interlocked.Increment(ref broadcastFailures) == 1)
                        {
                            firstBroadcastFailure = $"broadcast {i}: {e.Message}";
                        }

                        broadcasts = i + 1;
                    }

                    var remaining = (interval * (i + 1)) - Stopwatch.GetElapsedTime(started);
                    if (remaining > TimeSpan.Zero)
                    {
                        try
                        {
                            await Task.Delay(remaining, stopBroadcasts.Token);
                        }
                        catch (OperationCanceledException)
                        {
                        }
                    }
                }
            }, CancellationToken.None);

            // The harness's own user, registered through the server that stays up, to ask the restarted one for a poll answer.
            var probe = await CometyUser.RegisterAsync(cluster.Servers[StaysUp].Control, clients, cancellationToken);
            await Task.Delay(BeforeKill, cancellationToken);

            // The kill, and the start on the same port.
            var killedAt = Stopwatch.GetTimestamp();
            watch.Arm(killedAt);
            await cluster.KillAsync(Restarted);
            var exitedAt = Stopwatch.GetTimestamp();
            var server = await cluster.StartAgainAsync(Restarted);
            var listeningAt = Stopwatch.GetTimestamp();
            var healthyAt = await AnswersAsync(server, "bench/status", null, cancellationToken);
            var t0 = await AnswersAsync(server, "updates?timeout=0", probe.Cookie, cancellationToken);
            watch.Answering(t0);
            log.WriteLine($"  killed server {Restarted} (exited in {Ms(exitedAt - killedAt):0} ms), listening again {Ms(listeningAt - killedAt):0} ms after the kill, "
                + $"/bench/status answering {Ms(healthyAt - killedAt):0} ms after it, a poll answered (t0) {Ms(t0 - killedAt):0} ms after it, {ProbeRefusals} answers before that not 200: {cluster.Describe()}");

            // Until every client that failed on it has a poll answered by it, within the phase's bound.
            var deadline = t0 + (long)(phaseTimeout.TotalSeconds * Stopwatch.Frequency);
            while (!watch.AllResumed && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
            }

            await Task.Delay(AfterResume, cancellationToken);
            await stopBroadcasts.CancelAsync();
            await broadcaster;

            var expected = (long)clients * broadcasts;
            var receiptDeadline = Stopwatch.GetTimestamp() + (long)(phaseTimeout.TotalSeconds * Stopwatch.Frequency);
            while (book.Received < expected && Stopwatch.GetTimestamp() < receiptDeadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken);
            }

            if (book.Received < expected)
            {
                log.WriteLine($"  gave up waiting after {phaseTimeout.TotalSeconds} s: {book.Received} of {expected} received, {fleet.Failures} client failures");
            }

            if (fleet.Report is { } report)
            {
                log.WriteLine("  " + report);
            }

            long lost = 0;
            for (var c = 0; c < clients; c++)
            {
                for (var i = 0; i < broadcasts; i++)
                {
                    if (!book.Has(c, i))
                    {
                        lost++;
                    }
                }
            }

            var affected = watch.Affected();
            var onRestarted = affected.Where(c => watch.ResumedOnRestartedAt(c) != 0).Select(c => watch.ResumedOnRestartedAt(c) - t0).Order().ToArray();
            var anywhere = affected.Where(c => watch.AnsweredAfterFailureAt(c) != 0).Select(c => watch.AnsweredAfterFailureAt(c) - watch.FailedAt(c)).Order().ToArray();
            var firstOnRestarted = onRestarted.Length == 0 ? (long?)null : onRestarted[0];
            return new RestartResult
            {
                Clients = clients,
                IntervalMs = interval.TotalMilliseconds,
                Backoff = $"{RetryPolicy.Script.First.TotalSeconds:0} s doubling to {RetryPolicy.Script.Max.TotalSeconds:0} s",
                ExitedMs = Math.Round(Ms(exitedAt - killedAt), 1),
                ListeningMs = Math.Round(Ms(listeningAt - killedAt), 1),
                HealthyMs = Math.Round(Ms(healthyAt - killedAt), 1),
                AnsweringMs = Math.Round(Ms(t0 - killedAt), 1),
                ProbeNotOk = ProbeRefusals,
                ProbeFirstNotOk = ProbeFirstRefusal,
                FirstPollOnRestartedMs = firstOnRestarted is { } first ? Math.Round(Ms(first), 1) : null,
                Affected = affected.Length,
                ResumedOnRestarted = onRestarted.Length,
                ResumedP50Ms = Percentile(onRestarted, 0.50),
                ResumedP99Ms = Percentile(onRestarted, 0.99),
                ResumedMaxMs = onRestarted.Length == 0 ? null : Math.Round(Ms(onRestarted[^1]), 1),
                AnsweredAnywhere = anywhere.Length,
                AnywhereP50Ms = Percentile(anywhere, 0.50),
                AnywhereP99Ms = Percentile(anywhere, 0.99),
                AnywhereMaxMs = anywhere.Length == 0 ? null : Math.Round(Ms(anywhere[^1]), 1),
                FailedPolls = fleet.RetriedFailures.Values.Sum(),
                FailedPollsByKind = fleet.RetriedFailures,
                FirstFailedPollByKind = fleet.FirstRetriedFailures,
                FailedPollsElsewhere = watch.FailuresElsewhere,
                Broadcasts = broadcasts,
                BroadcastFailures = broadcastFailures,
                FirstBroadcastFailure = firstBroadcastFailure,
                Lost = lost,
                Duplicated = book.Duplicates,
                OutOfOrder = book.OutOfOrder,
                Unexpected = book.Unexpected,
                ClientFailures = fleet.Failures,
                FirstClientFailure = fleet.FirstFailure,
                LoadAverageBefore = loadBefore,
                LoadAverageAfter = LoadAverage(),
                SourceAddresses = sources.Count,
            };
        }
        finally
        {
            await fleet.DisposeAsync();
        }
    }

    /// <summary>Answers other than 200 the restarted server gave the harness's own requests before they succeeded (a poll's 503 while it loads the log).</summary>
    private int ProbeRefusals { get; set; }

    private string? ProbeFirstRefusal { get; set; }

    /// <summary>
    /// Asks the started server for <paramref name="path"/> (with a user's cookie, for a poll) every 10 ms
    /// until it answers 200; returns when it did. Connections refused or reset are tried again too.
    /// </summary>
    private async Task<long> AnswersAsync(ServerProcess server, string path, string? cookie, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(phaseTimeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                attempt.CancelAfter(TimeSpan.FromSeconds(5));
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                if (cookie is not null)
                {
                    request.Headers.Add("Cookie", cookie);
                }

                using var response = await server.Control.SendAsync(request, attempt.Token);
                if (response.IsSuccessStatusCode)
                {
                    return Stopwatch.GetTimestamp();
                }

                if (cookie is not null)
                {
                    ProbeRefusals++;
                    ProbeFirstRefusal ??= $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}";
                }
            }
            catch (Exception e) when ((e is HttpRequestException or OperationCanceledException) && !cancellationToken.IsCancellationRequested && Stopwatch.GetTimestamp() < deadline)
            {
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"The restarted server did not answer {path} within {phaseTimeout.TotalSeconds} s.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken);
        }
    }

    private async Task WaitForAsync(Func<Task<ServerStatus>> read, Func<ServerStatus, bool> condition, string what, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(phaseTimeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var status = await read();
            if (condition(status))
            {
                return;
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"Restart case, {clients} clients: gave up waiting for {what} after {phaseTimeout.TotalSeconds} s ({status}).");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
        }
    }

    /// <summary>The 1, 5 and 15 minute load averages, as <c>/proc/loadavg</c> has them.</summary>
    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static double? Percentile(long[] sorted, double p) =>
        sorted.Length == 0 ? null : Math.Round(Ms(sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)]), 1);

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    /// <summary>
    /// Per client, from the kill on: its first poll to the restarted server that failed, its first poll
    /// answered (by either server) after that failure, and its first poll answered by the restarted server.
    /// Each client's loop reports one poll at a time; the harness reads the arrays as they are.
    /// </summary>
    private sealed class RestartWatch(int clients) : IPollObserver
    {
        private readonly long[] _failedAt = new long[clients];
        private readonly long[] _answeredAfterFailureAt = new long[clients];
        private readonly long[] _resumedAt = new long[clients];
        private long _armedAt;
        private long _t0;
        private long _affected;
        private long _resumed;
        private long _failuresElsewhere;

        public void Arm(long at) => Volatile.Write(ref _armedAt, at);

        public void Answering(long at) => Volatile.Write(ref _t0, at);

        /// <summary>Whether every client that failed on the restarted server (at least one) has had a poll answered by it since.</summary>
        public bool AllResumed => Interlocked.Read(ref _affected) > 0 && Interlocked.Read(ref _resumed) == Interlocked.Read(ref _affected);

        /// <summary>Polls that failed on the server that stayed up: none should.</summary>
        public long FailuresElsewhere => Interlocked.Read(ref _failuresElsewhere);

        public void Answered(int client, int server, long at)
        {
            if (Volatile.Read(ref _armedAt) == 0 || _failedAt[client] == 0)
            {
                return;
            }

            if (_answeredAfterFailureAt[client] == 0)
            {
                _answeredAfterFailureAt[client] = at;
            }

            if (server == Restarted && _resumedAt[client] == 0)
            {
                _resumedAt[client] = at;
                Interlocked.Increment(ref _resumed);
            }
        }

        public void Failed(int client, int server, long at, string kind)
        {
            var armed = Volatile.Read(ref _armedAt);
            if (armed == 0)
            {
                return;
            }

            if (server != Restarted)
            {
                Interlocked.Increment(ref _failuresElsewhere);
                return;
            }

            if (_failedAt[client] == 0)
            {
                _failedAt[client] = at;
                Interlocked.Increment(ref _affected);
            }
        }

        public int[] Affected() => [.. Enumerable.Range(0, _failedAt.Length).Where(c => Volatile.Read(ref _failedAt[c]) != 0)];

        public long FailedAt(int client) => Volatile.Read(ref _failedAt[client]);

        public long AnsweredAfterFailureAt(int client) => Volatile.Read(ref _answeredAfterFailureAt[client]);

        public long ResumedOnRestartedAt(int client) => Volatile.Read(ref _resumedAt[client]);
    }
}

/// <summary>The restart case's figures; a Markdown table row and one JSON line.</summary>
internal sealed record RestartResult : ICaseResult
{
    public string Date { get; init; } = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    public string Implementation { get; init; } = "Comety, 2 servers, PostgreSQL";

    public int Servers { get; init; } = 2;

    public required int Clients { get; init; }

    /// <summary>One broadcast per this many ms, through the server that stays up.</summary>
    public required double IntervalMs { get; init; }

    /// <summary>How the clients retry a failed poll.</summary>
    public required string Backoff { get; init; }

    /// <summary>From the SIGKILL to the process having exited.</summary>
    public required double ExitedMs { get; init; }

    /// <summary>From the kill to the new process printing that it listens (same port).</summary>
    public required double ListeningMs { get; init; }

    /// <summary>From the kill to its <c>/bench/status</c> answering 200 (what a load balancer's health check would see).</summary>
    public required double HealthyMs { get; init; }

    /// <summary>From the kill to t0: a poll of the harness's own user (<c>timeout=0</c>) answered 200 by it.</summary>
    public required double AnsweringMs { get; init; }

    /// <summary>The harness's polls the restarted server answered with another status before t0 (asked every 10 ms).</summary>
    public required int ProbeNotOk { get; init; }

    public string? ProbeFirstNotOk { get; init; }

    /// <summary>From t0 to the first client poll the restarted server answered (may be slightly negative: a poll can beat the harness's check).</summary>
    public double? FirstPollOnRestartedMs { get; init; }

    /// <summary>Clients with at least one poll to the killed or restarting server that failed.</summary>
    public required int Affected { get; init; }

    /// <summary>Of those, how many had a poll answered by the restarted server within the bound.</summary>
    public required int ResumedOnRestarted { get; init; }

    /// <summary>From t0 to the client's first poll answered by the restarted server.</summary>
    public double? ResumedP50Ms { get; init; }

    public double? ResumedP99Ms { get; init; }

    public double? ResumedMaxMs { get; init; }

    /// <summary>Affected clients that had a poll answered by either server after their first failure.</summary>
    public required int AnsweredAnywhere { get; init; }

    /// <summary>From the client's first failed poll to its next answered one, from either server.</summary>
    public double? AnywhereP50Ms { get; init; }

    public double? AnywhereP99Ms { get; init; }

    public double? AnywhereMaxMs { get; init; }

    /// <summary>Polls that failed and were retried, over the whole case.</summary>
    public required long FailedPolls { get; init; }

    public required IReadOnlyDictionary<string, long> FailedPollsByKind { get; init; }

    /// <summary>The first failed poll of each kind: client, server, message (a status's body).</summary>
    public required IReadOnlyDictionary<string, string> FirstFailedPollByKind { get; init; }

    /// <summary>Polls to the server that stayed up that failed after the kill.</summary>
    public required long FailedPollsElsewhere { get; init; }

    public required int Broadcasts { get; init; }

    public required long BroadcastFailures { get; init; }

    public string? FirstBroadcastFailure { get; init; }

    /// <summary>Broadcasts some client does not have, over all clients.</summary>
    public required long Lost { get; init; }

    public required long Duplicated { get; init; }

    public required long OutOfOrder { get; init; }

    public required long Unexpected { get; init; }

    /// <summary>Clients stopped by a failure not retried (4xx but 429, a malformed answer).</summary>
    public required long ClientFailures { get; init; }

    public string? FirstClientFailure { get; init; }

    public required string LoadAverageBefore { get; init; }

    public required string LoadAverageAfter { get; init; }

    public int SourceAddresses { get; init; }

    public string? Run { get; init; }

    public string? Machine { get; init; }

    /// <summary>Anything lost, repeated, reordered or failed, and affected clients that did not come back to the restarted server.</summary>
    public long Faults => Lost + Duplicated + OutOfOrder + Unexpected + ClientFailures + BroadcastFailures + FailedPollsElsewhere + (Affected - ResumedOnRestarted) + (Affected == 0 ? 1 : 0);

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static string MarkdownHeader() =>
        "| N | interval ms | backoff | listening ms | health ms | poll answered ms (t0) | affected | resumed on it | on it after t0: p50 ms | p99 ms | max ms | any answer after the failure: p50 ms | p99 ms | failed polls | lost | dup | out of order | failures | load before | load after |\n"
        + "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |";

    public string ToMarkdown() => string.Create(CultureInfo.InvariantCulture,
        $"| {Clients:N0} | {IntervalMs:0} | {Backoff} | {ListeningMs:0} | {HealthyMs:0} | {AnsweringMs:0} | {Affected:N0} | {ResumedOnRestarted:N0} | {ResumedP50Ms:0.0} | {ResumedP99Ms:0.0} | {ResumedMaxMs:0.0} | {AnywhereP50Ms:0.0} | {AnywhereP99Ms:0.0} | {FailedPolls:N0} | {Lost} | {Duplicated} | {OutOfOrder} | {Unexpected + ClientFailures + BroadcastFailures + FailedPollsElsewhere} | {LoadAverageBefore} | {LoadAverageAfter} |");

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
}

/// <summary>What a case other than the rows gives for each of its runs: a JSON line, a Markdown row, and its faults (any makes the program exit with 1).</summary>
internal interface ICaseResult
{
    long Faults { get; }

    string ToJson();

    string ToMarkdown();
}
