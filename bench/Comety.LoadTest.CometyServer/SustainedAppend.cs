using System.Diagnostics;
using Comety.PostgreSql;
using Npgsql;

namespace Comety.LoadTest.CometyServer;

/// <summary>
/// <c>POST /bench/append</c>, mapped only on the PostgreSQL log: for a bounded time, a number of
/// posters each post broadcasts back to back, and the answer says how many each attempted, which
/// failed, and how long a post took. Every event names its server, poster and attempt
/// (<c>{"event":"append","s":…,"p":…,"n":…}</c>), so that the load test can read the log table
/// afterwards and find each posted event exactly once. With <c>transactions=true</c> each post is
/// its own transaction, through the transactional API; otherwise the posts go through
/// <see cref="CometyDispatcher.BroadcastAsync(object?, IReadOnlyDictionary{string, object?}, CancellationToken)"/>,
/// and the log appends those that arrive together in one transaction. A broadcast with no user
/// registered is dropped (not appended), so the endpoint first registers a user of its own,
/// <c>append-{server}</c>: the log holds its membership record too.
/// </summary>
internal static class SustainedAppend
{
    private const string Sender = "bench";
    private const int MaxFailedListed = 1000;

    // One user per server process, whichever calls it takes.
    private static readonly string AppendUser = "append-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
    private static readonly TimeSpan MaxDuration = TimeSpan.FromMinutes(5);

    public static void MapSustainedAppend(this WebApplication app)
    {
        app.MapPost("/bench/append", async (string server, int posters, double seconds, bool? transactions, CometyDispatcher dispatcher) =>
        {
            if (posters is < 1 or > 1000 || seconds <= 0 || TimeSpan.FromSeconds(seconds) > MaxDuration)
            {
                return Results.BadRequest("posters: 1 to 1000; seconds: more than 0, at most 300.");
            }

            var log = (PostgreSqlEventLog)dispatcher.EventLog;
            var inTransactions = transactions == true;
            var attempts = new long[posters];
            var latencies = new List<long>[posters];
            var failed = new List<long[]>();
            var failures = 0L;
            var dropped = 0L;
            string? firstFailure = null;
            await dispatcher.EnsureRegisteredAsync(AppendUser);
            var started = Stopwatch.GetTimestamp();
            var until = started + (long)(seconds * Stopwatch.Frequency);

            async Task PostAsync(int poster)
            {
                var times = latencies[poster] = [];
                while (Stopwatch.GetTimestamp() < until)
                {
                    var attempt = attempts[poster]++;
                    var args = new Dictionary<string, object?> { ["event"] = "append", ["s"] = server, ["p"] = poster, ["n"] = attempt };
                    var postStarted = Stopwatch.GetTimestamp();
                    try
                    {
                        if (inTransactions)
                        {
                            await using var connection = await log.DataSource.OpenConnectionAsync();
                            await using var transaction = await connection.BeginTransactionAsync();
                            await dispatcher.BroadcastAsync(transaction, Sender, args);
                            await transaction.CommitAsync();
                        }
                        else if (await dispatcher.BroadcastAsync(Sender, args) is null)
                        {
                            Interlocked.Increment(ref dropped);
                        }

                        times.Add(Stopwatch.GetTimestamp() - postStarted);
                    }
                    catch (Exception e) when (e is EventLogUnavailableException or NpgsqlException or InvalidOperationException or TimeoutException)
                    {
                        lock (failed)
                        {
                            failures++;
                            firstFailure ??= $"poster {poster}, attempt {attempt}: {e.GetType().Name}: {e.Message}";
                            if (failed.Count < MaxFailedListed)
                            {
                                failed.Add([poster, attempt]);
                            }
                        }
                    }
                }
            }

            await Task.WhenAll(Enumerable.Range(0, posters).Select(p => Task.Run(() => PostAsync(p))));
            var elapsed = Stopwatch.GetElapsedTime(started);
            var all = latencies.SelectMany(l => l).Order().ToArray();
            double Ms(double p) => all.Length == 0 ? 0 : Math.Round(all[Math.Clamp((int)Math.Ceiling(p * all.Length) - 1, 0, all.Length - 1)] * 1000.0 / Stopwatch.Frequency, 2);
            return Results.Json(new AppendReport(server, attempts, failures, dropped, failed, firstFailure, elapsed.TotalSeconds, Ms(0.5), Ms(0.99)));
        });
    }

    private sealed record AppendReport(string Server, long[] Attempts, long Failures, long Dropped, List<long[]> Failed, string? FirstFailure, double Seconds, double P50Ms, double P99Ms);
}
