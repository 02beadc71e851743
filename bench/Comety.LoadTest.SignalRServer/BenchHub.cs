using Microsoft.AspNetCore.SignalR;

namespace Comety.LoadTest.SignalRServer;

/// <summary>
/// The load test's hub: a client joins its room once it is connected, and otherwise only
/// receives the <c>tick</c> invocations <see cref="SignalRPublisher"/> sends.
/// </summary>
internal sealed class BenchHub(BenchHubCounters counters) : Hub
{
    /// <summary>Adds the caller to group <paramref name="room"/>.</summary>
    public async Task Join(string room)
    {
        await Groups.AddToGroupAsync(Context.ConnectionId, room);

        // Counts joins, never leaves: the load test compares the count with what it was before a fleet connected.
        counters.AddJoined();
    }

    public override Task OnConnectedAsync()
    {
        counters.AddConnected(1);
        return Task.CompletedTask;
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        counters.AddConnected(-1);
        return Task.CompletedTask;
    }
}

/// <summary>Connections open now, and Join invocations so far, as the hub sees them.</summary>
internal sealed class BenchHubCounters(bool reportConnected)
{
    private int _connected;
    private int _joined;

    /// <summary>Whether <see cref="SignalRPublisher.Connected"/> reports the connections (WebSockets) or -1 (long polling, where waiting polls are counted instead).</summary>
    public bool ReportConnected { get; } = reportConnected;

    public int Connected => Volatile.Read(ref _connected);

    public int Joined => Volatile.Read(ref _joined);

    public void AddConnected(int delta) => Interlocked.Add(ref _connected, delta);

    public void AddJoined() => Interlocked.Increment(ref _joined);
}
