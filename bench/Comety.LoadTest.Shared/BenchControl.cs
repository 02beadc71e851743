using System.Diagnostics;
using System.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Comety.LoadTest;

/// <summary>What a load-test server posts: to everyone, or to one room (a channel or a group).</summary>
internal interface IBenchPublisher
{
    /// <summary>Posts tick <paramref name="index"/> to every client, stamped <paramref name="sentAt"/> (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    ValueTask BroadcastAsync(int index, long sentAt);

    /// <summary>Posts tick <paramref name="index"/> to the clients in <paramref name="room"/>.</summary>
    ValueTask PostToRoomAsync(string room, int index, long sentAt);

    /// <summary>How many clients joined a room so far; may be costly, asked for only while the load test waits for it.</summary>
    int Joined { get; }

    /// <summary>How many clients are connected in a way that does not show as a waiting request (WebSockets), or -1.</summary>
    int Connected { get; }
}

/// <summary>
/// The control endpoints both load-test servers share, under <c>/bench</c>; the load test drives
/// the servers through them and never through anything else of theirs.
/// </summary>
internal static class BenchControl
{
    private static long s_inFlight;

    /// <summary>Counts requests in flight on <paramref name="clientPath"/> (the polls, when every client waits).</summary>
    public static void UseInFlightCounter(this WebApplication app, PathString clientPath)
    {
        app.Use(async (context, next) =>
        {
            if (!HttpMethods.IsGet(context.Request.Method) || !context.Request.Path.StartsWithSegments(clientPath))
            {
                await next(context);
                return;
            }

            Interlocked.Increment(ref s_inFlight);
            try
            {
                await next(context);
            }
            finally
            {
                Interlocked.Decrement(ref s_inFlight);
            }
        });
    }

    /// <summary>Maps <c>/bench/*</c> and prints the address once the server listens.</summary>
    public static void MapBenchControl(this WebApplication app, IBenchPublisher publisher)
    {
        var bench = app.MapGroup("/bench");

        // Every count the load test waits on: requests waiting (polls), clients connected (WebSockets), rooms joined (when asked).
        bench.MapGet("/status", (bool? joined) => Results.Json(new BenchStatus(
            publisher.Connected >= 0 ? publisher.Connected : (int)Interlocked.Read(ref s_inFlight),
            joined == true ? publisher.Joined : -1,
            GC.GetTotalMemory(false),
            GC.GetTotalAllocatedBytes(),
            GC.CollectionCount(0),
            GC.CollectionCount(2),
            GC.GetGCMemoryInfo().TotalCommittedBytes)));

        bench.MapPost("/broadcast", async (int index) =>
        {
            await publisher.BroadcastAsync(index, Stopwatch.GetTimestamp());
            return Results.NoContent();
        });

        // Count events back to back, each stamped as it is posted.
        bench.MapPost("/burst", async (int start, int count) =>
        {
            for (var i = 0; i < count; i++)
            {
                await publisher.BroadcastAsync(start + i, Stopwatch.GetTimestamp());
            }

            return Results.NoContent();
        });

        bench.MapPost("/room", async (string room, int index) =>
        {
            await publisher.PostToRoomAsync(room, index, Stopwatch.GetTimestamp());
            return Results.NoContent();
        });

        // A full, compacting collection, so that memory read afterwards is what is live.
        bench.MapPost("/gc", () =>
        {
            GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            return Results.Json(new BenchStatus(-1, -1, GC.GetTotalMemory(false), GC.GetTotalAllocatedBytes(), GC.CollectionCount(0), GC.CollectionCount(2), GC.GetGCMemoryInfo().TotalCommittedBytes));
        });

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            Console.WriteLine("LISTENING " + addresses.First());
        });
    }

    private sealed record BenchStatus(int Waiting, int Joined, long HeapBytes, long AllocatedBytes, int Gen0Collections, int Gen2Collections, long CommittedBytes);
}
