using Microsoft.AspNetCore.SignalR;

namespace Comety.LoadTest.SignalRServer;

/// <summary>
/// The load test's hub: a client joins its room once it is connected, and otherwise only
/// receives the <c>tick</c> invocations <see cref="SignalRPublisher"/> sends.
/// </summary>
internal sealed class BenchHub(BenchHubCounters counters) : Hub
{
    private static readonly object JoinedKey = new();

    /// <summary>Adds the caller to group <paramref name="room"/>.</summary>
    public async Task Join(string room)
    {
        await Groups.AddToGroupAsync(Context.ConnectionId, room);

        // A client joins once; a second Join of the same connection is not counted again.
        if (Context.Items.TryAdd(JoinedKey, room))
        {
            counters.AddJoined(1);
        }
    }

    public override Task OnConnectedAsync()
    {
        counters.AddConnected(1);
        return Task.CompletedTask;
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        counters.AddConnected(-1);
        if (Context.Items.ContainsKey(JoinedKey))
        {
            counters.AddJoined(-1);
        }

        return Task.CompletedTask;
    }
}

/// <summary>Connections open and connections that joined a room, as the hub sees them.</summary>
internal sealed class BenchHubCounters(bool reportConnected)
{
    private int _connected;
    private int _joined;

    /// <summary>Whether <see cref="SignalRPublisher.Connected"/> reports the connections (WebSockets) or -1 (long polling, where waiting polls are counted instead).</summary>
    public bool ReportConnected { get; } = reportConnected;

    public int Connected => Volatile.Read(ref _connected);

    public int Joined => Volatile.Read(ref _joined);

    public void AddConnected(int delta) => Interlocked.Add(ref _connected, delta);

    public void AddJoined(int delta) => Interlocked.Add(ref _joined, delta);
}
