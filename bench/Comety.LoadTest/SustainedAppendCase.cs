using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace Comety.LoadTest;

/// <summary>How the sustained-append case posts.</summary>
internal enum AppendMode
{
    /// <summary>Many posts in flight through <c>BroadcastAsync</c>: the log appends those that arrive together in one transaction (group commit).</summary>
    Batched,

    /// <summary>The same posts, the log's <c>MaxAppendBatch</c> at 1: one transaction per post, the log's own appender.</summary>
    BatchOfOne,

    /// <summary>Each post its own transaction, opened by the poster, through the transactional API (<c>BroadcastAsync(transaction, …)</c>).</summary>
    Transaction,
}

/// <summary>
/// The sustained-append case: two Comety servers on a new PostgreSQL database, posters on both
/// posting broadcasts back to back for a bounded time (no clients; each server registers one user,
/// since a broadcast to nobody is dropped), then the log table read back: its sequence numbers must
/// be 1..N with no gap, and every event a poster posted must be there exactly once, in the order
/// that poster posted (each waits for its post before the next). A one-second warm-up of the same
/// posts comes first, outside the figures and inside the check. The membership records (the two
/// users' registrations) are the only others allowed.
/// </summary>
internal sealed class SustainedAppendCase(AppendMode mode, int postersPerServer, TimeSpan duration, TextWriter log)
{
    private const int ServerCount = 2;
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(1);

    public static string Name(AppendMode mode) => mode switch
    {
        AppendMode.Batched => "batched",
        AppendMode.BatchOfOne => "MaxAppendBatch 1",
        _ => "transaction per post",
    };

    public async Task<AppendResult> RunAsync(CancellationToken cancellationToken)
    {
        string[] arguments =
        [
            // Nothing may be trimmed before the table is read back.
            "--Comety:MaxRetainedEvents=1000000000",
            // The servers' users never poll: no timeout may unregister them (and no window trim the log) within the case.
            "--Comety:HeartbeatTimeout=00:10:00",
            .. mode == AppendMode.BatchOfOne ? ["--Bench:MaxAppendBatch=1"] : Array.Empty<string>(),
        ];
        await using var cluster = await ServerCluster.StartOnPostgreSqlAsync(ServerCount, arguments, cancellationToken);
        log.WriteLine($"  {cluster.Describe()}");
        var names = Enumerable.Range(0, ServerCount).Select(i => ((char)('A' + i)).ToString()).ToArray();

        var transactions = mode == AppendMode.Transaction ? "true" : "false";
        Task<AppendReport[]> PostAsync(string suffix, TimeSpan span) => Task.WhenAll(cluster.Servers.Select(async (server, i) =>
        {
            var seconds = span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            using var response = await server.Control.PostAsync(
                $"bench/append?server={names[i]}{suffix}&posters={postersPerServer}&seconds={seconds}&transactions={transactions}", null, cancellationToken);
            response.EnsureSuccessStatusCode();
            return (await response.Content.ReadFromJsonAsync<AppendReport>(JsonOptions, cancellationToken))!;
        }));

        // A warm-up, outside the figures (fresh processes spend their first second compiling), inside the check.
        var warmUp = await PostAsync("-warm-up", WarmUp);
        var cpu = cluster.CpuTime();
        var databaseCpu = cluster.DatabaseCpuTime();
        var reports = await PostAsync("", duration);
        var serverCpu = cluster.CpuTime() - cpu;
        var dbCpu = cluster.DatabaseCpuTime() - databaseCpu;

        var check = await CheckLogAsync(cluster.ConnectionString!, [.. warmUp, .. reports], cancellationToken);
        var posted = reports.Sum(r => r.Attempts.Sum()) - reports.Sum(r => r.Failures) - reports.Sum(r => r.Dropped);
        var elapsed = reports.Max(r => r.Seconds);
        return new AppendResult
        {
            Mode = Name(mode),
            Servers = ServerCount,
            PostersPerServer = postersPerServer,
            Seconds = Math.Round(elapsed, 2),
            Posted = posted,
            EventsPerSecond = Math.Round(posted / elapsed),
            P50Ms = reports.Max(r => r.P50Ms),
            P99Ms = reports.Max(r => r.P99Ms),
            ServerCpuUsPerEvent = posted == 0 ? 0 : Math.Round(serverCpu.TotalMicroseconds / posted, 1),
            DatabaseCpuUsPerEvent = posted == 0 || dbCpu is not { } db ? null : Math.Round(db.TotalMicroseconds / posted, 1),
            LastSequence = check.LastSequence,
            Records = check.Records,
            MembershipRecords = check.MembershipRecords,
            Dropped = warmUp.Concat(reports).Sum(r => r.Dropped),
            TrimmedThrough = check.TrimmedThrough,
            Gaps = check.Gaps,
            Missing = check.Missing,
            Duplicated = check.Duplicated,
            Reordered = check.Reordered,
            Unexpected = check.Unexpected,
            FailedButCommitted = check.FailedButCommitted,
            WarmUpPosted = warmUp.Sum(r => r.Attempts.Sum() - r.Failures - r.Dropped),
            Failures = warmUp.Concat(reports).Sum(r => r.Failures),
            FirstFailure = warmUp.Concat(reports).Select(r => r.FirstFailure).FirstOrDefault(f => f is not null),
        };
    }

    /// <summary>Reads the whole log table back and compares it with what the posters say they posted.</summary>
    private static async Task<LogCheck> CheckLogAsync(string connectionString, AppendReport[] reports, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);

        long lastSequence, trimmedThrough;
        await using (var command = new NpgsqlCommand("SELECT last_sequence, trimmed_through FROM comety.logs WHERE name = 'default'", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new InvalidOperationException("The log has no counter row: nothing was appended.");
            }

            lastSequence = reader.GetInt64(0);
            trimmedThrough = reader.GetInt64(1);
        }

        // Every record, in sequence order: (server, poster) -> attempt numbers in the order of the log.
        var seen = new Dictionary<(string Server, int Poster), List<long>>();
        long records = 0, membership = 0, gaps = 0, unexpected = 0, expectedSequence = trimmedThrough + 1;
        await using (var command = new NpgsqlCommand(
            "SELECT sequence, kind, record->'args'->>'event', record->'args'->>'s', (record->'args'->>'p')::int, (record->'args'->>'n')::bigint "
            + "FROM comety.records WHERE log = 'default' ORDER BY sequence", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                records++;
                var sequence = reader.GetInt64(0);
                if (sequence != expectedSequence)
                {
                    gaps++;
                }

                expectedSequence = sequence + 1;
                if (reader.GetInt16(1) != 0)
                {
                    membership++;
                    continue;
                }

                if (reader.IsDBNull(2) || reader.GetString(2) != "append" || reader.IsDBNull(3) || reader.IsDBNull(4) || reader.IsDBNull(5))
                {
                    unexpected++;
                    continue;
                }

                var key = (reader.GetString(3), reader.GetInt32(4));
                if (!seen.TryGetValue(key, out var attempts))
                {
                    seen[key] = attempts = [];
                }

                attempts.Add(reader.GetInt64(5));
            }
        }

        if (expectedSequence != lastSequence + 1)
        {
            gaps++; // the table ends before (or after) the counter
        }

        long missing = 0, duplicated = 0, reordered = 0, failedButCommitted = 0;
        foreach (var report in reports)
        {
            var failed = report.Failed.Where(f => f.Length == 2).Select(f => (Poster: (int)f[0], Attempt: f[1])).ToHashSet();
            for (var poster = 0; poster < report.Attempts.Length; poster++)
            {
                var found = seen.Remove((report.Server, poster), out var list) ? list : [];
                for (var i = 1; i < found.Count; i++)
                {
                    if (found[i] <= found[i - 1])
                    {
                        reordered++;
                    }
                }

                var counts = found.GroupBy(n => n).ToDictionary(g => g.Key, g => g.LongCount());
                for (var attempt = 0L; attempt < report.Attempts[poster]; attempt++)
                {
                    var count = counts.GetValueOrDefault(attempt);
                    duplicated += Math.Max(0, count - 1);
                    if (failed.Contains((poster, attempt)))
                    {
                        failedButCommitted += Math.Min(count, 1);
                    }
                    else if (count == 0)
                    {
                        missing++;
                    }

                    counts.Remove(attempt);
                }

                unexpected += counts.Values.Sum();
            }
        }

        unexpected += seen.Values.Sum(l => (long)l.Count);
        return new LogCheck(lastSequence, records, membership, trimmedThrough, gaps, missing, duplicated, reordered, unexpected, failedButCommitted);
    }

    private sealed record LogCheck(long LastSequence, long Records, long MembershipRecords, long TrimmedThrough, long Gaps, long Missing, long Duplicated, long Reordered, long Unexpected, long FailedButCommitted);

    /// <summary>What <c>/bench/append</c> answers.</summary>
    private sealed record AppendReport(string Server, long[] Attempts, long Failures, long Dropped, long[][] Failed, string? FirstFailure, double Seconds, double P50Ms, double P99Ms);

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
}

/// <summary>One row of the sustained-append case; a Markdown table row and one JSON line.</summary>
internal sealed record AppendResult : ICaseResult
{
    public string Date { get; init; } = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    public required string Mode { get; init; }

    public required int Servers { get; init; }

    public required int PostersPerServer { get; init; }

    /// <summary>How long the posters posted (the longer of the servers' own measures).</summary>
    public required double Seconds { get; init; }

    /// <summary>Posts of the one-second warm-up before the measured ones (in the log and its check, not in the figures).</summary>
    public required long WarmUpPosted { get; init; }

    /// <summary>Posts that succeeded, over both servers.</summary>
    public required long Posted { get; init; }

    public required double EventsPerSecond { get; init; }

    /// <summary>A post's latency, from its call to its return (to the commit, for a transaction), median: the slower server's.</summary>
    public required double P50Ms { get; init; }

    public required double P99Ms { get; init; }

    /// <summary>Both servers' CPU per event posted (their following of the log included).</summary>
    public required double ServerCpuUsPerEvent { get; init; }

    public double? DatabaseCpuUsPerEvent { get; init; }

    public required long LastSequence { get; init; }

    public required long Records { get; init; }

    /// <summary>Records that are not events: the servers' users' registrations.</summary>
    public required long MembershipRecords { get; init; }

    public required long TrimmedThrough { get; init; }

    /// <summary>Broadcasts the dispatcher dropped (no user registered): not in the log, and counted as faults here.</summary>
    public required long Dropped { get; init; }

    /// <summary>Sequence numbers missing between the trimmed floor and the counter, or past it.</summary>
    public required long Gaps { get; init; }

    /// <summary>Posts that succeeded and are not in the table.</summary>
    public required long Missing { get; init; }

    public required long Duplicated { get; init; }

    /// <summary>Events of one poster in the table out of the order it posted them.</summary>
    public required long Reordered { get; init; }

    /// <summary>Records no poster posted.</summary>
    public required long Unexpected { get; init; }

    /// <summary>Posts that failed (an exception) and are in the table all the same.</summary>
    public required long FailedButCommitted { get; init; }

    public required long Failures { get; init; }

    public string? FirstFailure { get; init; }

    public string? Run { get; init; }

    public string? Machine { get; init; }

    public long Faults => Gaps + Missing + Duplicated + Reordered + Unexpected + Failures + Dropped + (TrimmedThrough > 0 ? 1 : 0);

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static string MarkdownHeader() =>
        "| appends | servers | posters per server | s | events posted | events/s | p50 ms | p99 ms | servers' CPU µs/event | DB CPU µs/event | last sequence | gaps | missing | dup | reordered | failures |\n"
        + "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |";

    public string ToMarkdown() => string.Create(CultureInfo.InvariantCulture,
        $"| {Mode} | {Servers} | {PostersPerServer} | {Seconds:0.0} | {Posted:N0} | {EventsPerSecond:N0} | {P50Ms:0.00} | {P99Ms:0.00} | {ServerCpuUsPerEvent:0.0} | {(DatabaseCpuUsPerEvent is { } db ? db.ToString("0.0", CultureInfo.InvariantCulture) : "—")} | {LastSequence:N0} | {Gaps} | {Missing} | {Duplicated} | {Reordered} | {Failures + Unexpected + Dropped} |");

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
}
