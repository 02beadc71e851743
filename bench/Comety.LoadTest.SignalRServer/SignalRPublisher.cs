using Microsoft.AspNetCore.SignalR;

namespace Comety.LoadTest.SignalRServer;

/// <summary>Sends the load test's ticks through the hub context: to every client, or to a room's group.</summary>
internal sealed class SignalRPublisher(IHubContext<BenchHub> hub, BenchHubCounters counters) : IBenchPublisher
{
    private const string Method = "tick";

    public int Joined => counters.Joined;

    public int Connected => counters.ReportConnected ? counters.Connected : -1;

    public async ValueTask BroadcastAsync(int index, long sentAt) =>
        await hub.Clients.All.SendAsync(Method, index, sentAt);

    public async ValueTask PostToRoomAsync(string room, int index, long sentAt) =>
        await hub.Clients.Group(room).SendAsync(Method, index, sentAt);
}
