using System.Diagnostics;
using System.Text.Json;
using Comety.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Comety.Tests.LoadTest;

/// <summary>
/// Runs bench/Comety.LoadTest as its users do, at smoke size (50 simulated browsers, 5 events):
/// its Comety clients follow PROTOCOL.md and its SignalR clients the long-polling and WebSocket
/// transports against real servers, and every row must account for every event exactly once, in order.
/// The tests of two Comety servers on one PostgreSQL log also carry <c>Category=PostgreSql</c>: the load
/// test starts a PostgreSQL of its own, which needs the server programs on the machine.
/// </summary>
[Trait("Category", "LoadTest")]
public sealed class LoadTestSmokeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Every_target_delivers_every_event_once_in_order()
    {
        var rows = await RunAsync("--smoke");

        Assert.Equal(
            ["Comety LongPolling", "Comety Streaming", "SignalR LongPolling", "SignalR WebSockets"],
            rows.Select(r => r.GetProperty("implementation").GetString() + " " + r.GetProperty("transport").GetString()));
        foreach (var row in rows)
        {
            AssertFaultless(row);
            Assert.True(row.GetProperty("p99Ms").GetDouble() > 0, "latencies were measured");
            Assert.True(row.GetProperty("burstEventsPerSecond").GetDouble() > 0, "the burst was delivered");
        }
    }

    [Fact]
    public async Task Streams_cut_at_random_and_resumed_with_Last_Event_ID_lose_and_repeat_nothing()
    {
        var rows = await RunAsync("--smoke", "--targets", "comety-stream", "--cut-streams", "1", "--stream-duration", "2");

        AssertFaultless(Assert.Single(rows));
    }

    [Fact]
    [Trait("Category", "PostgreSql")]
    public async Task Two_servers_on_one_PostgreSQL_log_deliver_every_event_once_in_order_whichever_server_each_request_reaches()
    {
        var rows = await RunAsync("--smoke", "--targets", "comety-pg2");

        var row = Assert.Single(rows);
        Assert.Equal("Comety, 2 servers, PostgreSQL", row.GetProperty("implementation").GetString());
        Assert.Equal(2, row.GetProperty("servers").GetInt32());
        AssertFaultless(row);
        Assert.True(row.GetProperty("p99Ms").GetDouble() > 0, "latencies were measured");
        Assert.True(row.GetProperty("databaseCpuUsPerDelivery").ValueKind == JsonValueKind.Number, "the database's CPU was read");
    }

    [Fact]
    [Trait("Category", "PostgreSql")]
    public async Task Sustained_appends_on_two_servers_leave_sequence_numbers_without_gaps_and_each_posted_event_once()
    {
        var rows = await RunAsync("--append", "1.5", "--append-posters", "8");

        Assert.Equal(["batched", "MaxAppendBatch 1", "transaction per post"], rows.Select(r => r.GetProperty("mode").GetString()));
        foreach (var row in rows)
        {
            var posted = row.GetProperty("posted").GetInt64();
            Assert.True(posted > 0, "events were posted");
            var logged = posted + row.GetProperty("warmUpPosted").GetInt64();
            foreach (var fault in new[] { "gaps", "missing", "duplicated", "reordered", "unexpected", "failedButCommitted", "failures", "dropped", "trimmedThrough" })
            {
                Assert.Equal(0, row.GetProperty(fault).GetInt64());
            }

            // 1..N: the posted events (the warm-up's too) and the two servers' users' registrations, nothing else.
            Assert.Equal(2, row.GetProperty("membershipRecords").GetInt64());
            Assert.Equal(logged + 2, row.GetProperty("records").GetInt64());
            Assert.Equal(logged + 2, row.GetProperty("lastSequence").GetInt64());
        }
    }

    [Fact]
    [Trait("Category", "PostgreSql")]
    public async Task A_server_of_two_killed_and_started_again_under_load_loses_nothing_and_every_client_that_failed_on_it_resumes_on_it()
    {
        var rows = await RunAsync("--restart-server", "--clients", "50");

        var row = Assert.Single(rows);
        Assert.Equal(50, row.GetProperty("clients").GetInt32());
        Assert.True(row.GetProperty("broadcasts").GetInt32() > 10, "broadcasts went on through the restart");
        var affected = row.GetProperty("affected").GetInt32();
        Assert.True(affected > 0, "some client's poll went to the killed server and failed");
        Assert.Equal(affected, row.GetProperty("resumedOnRestarted").GetInt32());
        Assert.Equal(affected, row.GetProperty("answeredAnywhere").GetInt32());
        Assert.True(row.GetProperty("resumedP50Ms").ValueKind == JsonValueKind.Number, "resume times were measured");
        foreach (var fault in new[] { "lost", "duplicated", "outOfOrder", "unexpected", "clientFailures", "broadcastFailures", "failedPollsElsewhere", "faults" })
        {
            Assert.Equal(0, row.GetProperty(fault).GetInt64());
        }
    }

    private static void AssertFaultless(JsonElement row)
    {
        Assert.Equal(50, row.GetProperty("clients").GetInt32());
        Assert.Equal(50, row.GetProperty("waiting").GetInt32());
        foreach (var fault in new[] { "lost", "misdelivered", "duplicated", "outOfOrder", "unexpected", "clientFailures" })
        {
            Assert.Equal(0, row.GetProperty(fault).GetInt64());
        }
    }

    private async Task<List<JsonElement>> RunAsync(params string[] arguments)
    {
        var assembly = BuildOutput.AssemblyPath(Path.Combine("bench", "Comety.LoadTest"));
        Assert.True(File.Exists(assembly), $"{assembly} is built before the tests (Comety.Tests references it).");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(assembly);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(RunTimeout);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        var text = await stdout;
        output.WriteLine(text);
        output.WriteLine(await stderr);
        Assert.Equal(0, process.ExitCode);

        return text.Split('\n').Where(line => line.StartsWith('{')).Select(line => JsonDocument.Parse(line).RootElement).ToList();
    }
}
