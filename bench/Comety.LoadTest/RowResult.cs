using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Comety.LoadTest;

/// <summary>One row of the comparison; written as a Markdown table row and as one JSON line.</summary>
internal sealed record RowResult
{
    public string Date { get; init; } = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    public required string Implementation { get; init; }

    public required string Transport { get; init; }

    /// <summary>Server processes behind the row (2 for Comety on PostgreSQL); every server figure is their sum.</summary>
    public int Servers { get; init; } = 1;

    public required int Clients { get; init; }

    /// <summary>Clients the server counted waiting (polls in flight, or open WebSockets) before the broadcast.</summary>
    public required int Waiting { get; init; }

    public required double ConnectSeconds { get; init; }

    /// <summary>Fan-out latency of the spaced broadcast: server stamp to client receipt.</summary>
    public required double P50Ms { get; init; }

    public required double P99Ms { get; init; }

    public required double MaxMs { get; init; }

    public required double BurstP99Ms { get; init; }

    /// <summary>Events delivered per second in the burst: clients × K over burst start to last receipt.</summary>
    public required double BurstEventsPerSecond { get; init; }

    /// <summary>Server CPU per delivered event in the spaced broadcast, re-polls included.</summary>
    public required double CpuUsPerDelivery { get; init; }

    /// <summary>The PostgreSQL processes' CPU per delivered event in the same window, apart from the servers'; null without a database.</summary>
    public double? DatabaseCpuUsPerDelivery { get; init; }

    /// <summary>The PostgreSQL processes' CPU per post to one room of 100 (nothing subtracted); null without a database.</summary>
    public double? DatabaseCpuMsPerRoomPost { get; init; }

    /// <summary>The load test's own CPU (the simulated clients) per delivered event in the same window: the other half of the two cores.</summary>
    public required double ClientCpuUsPerDelivery { get; init; }

    public required double BurstCpuUsPerDelivery { get; init; }

    /// <summary>Server CPU per broadcast post (idle CPU subtracted).</summary>
    public required double BroadcastCpuMsPerPost { get; init; }

    /// <summary>Server CPU per post to one room of 100 (idle CPU subtracted).</summary>
    public required double RoomCpuMsPerPost { get; init; }

    /// <summary>Bytes the server allocated per delivered event in the spaced broadcast, re-polls included.</summary>
    public required double AllocatedBytesPerDelivery { get; init; }

    /// <summary>Generation-0 collections in the server per broadcast post.</summary>
    public required double Gen0PerBroadcast { get; init; }

    public required double IdleCpuPercent { get; init; }

    public required double IdleRssMB { get; init; }

    public required double LoadedRssMB { get; init; }

    public required double RssKBPerClient { get; init; }

    public required double HeapKBPerClient { get; init; }

    /// <summary>Memory the server's GC holds committed (live objects plus its free space), per waiting client.</summary>
    public required double GcCommittedKBPerClient { get; init; }

    public required long Lost { get; init; }

    public required long Misdelivered { get; init; }

    public required long Duplicated { get; init; }

    public required long OutOfOrder { get; init; }

    public required long Unexpected { get; init; }

    public required long ClientFailures { get; init; }

    /// <summary>How many 127.0.0.x addresses the clients connected from (0: 127.0.0.1 only, the kernel's choice).</summary>
    public int SourceAddresses { get; init; }

    /// <summary>When the run this row belongs to started (one invocation of the program): rows of one run share it.</summary>
    public string? Run { get; init; }

    /// <summary>The machine the run was on: CPU, cores, memory, system, .NET.</summary>
    public string? Machine { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static string MarkdownHeader() =>
        "| implementation | transport | N | waiting | p50 ms | p99 ms | max ms | burst p99 ms | burst events/s | CPU µs/delivery | DB CPU µs/delivery | CPU ms/post: all | CPU ms/post: 1 room | RSS idle MB | RSS KB/client | heap KB/client | lost | dup | out of order |\n"
        + "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |";

    public string ToMarkdown() => string.Create(CultureInfo.InvariantCulture,
        $"| {Implementation} | {Transport} | {Clients:N0} | {Waiting:N0} | {P50Ms:0.0} | {P99Ms:0.0} | {MaxMs:0.0} | {BurstP99Ms:0.0} | {BurstEventsPerSecond:N0} | {CpuUsPerDelivery:0.00} | {(DatabaseCpuUsPerDelivery is { } db ? db.ToString("0.00", CultureInfo.InvariantCulture) : "—")} | {BroadcastCpuMsPerPost:0.0} | {RoomCpuMsPerPost:0.00} | {IdleRssMB:0.0} | {RssKBPerClient:0.0} | {HeapKBPerClient:0.0} | {Lost + Misdelivered + Unexpected + ClientFailures} | {Duplicated} | {OutOfOrder} |");

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
}
