namespace Comety.LoadTest.CometyServer;

/// <summary>Posts the load test's ticks through the dispatcher: broadcasts, and posts to a room's channel.</summary>
internal sealed class CometyPublisher(CometyDispatcher dispatcher) : IBenchPublisher
{
    private const string Sender = "bench";

    public int Joined => dispatcher.UserCount == 0 ? 0 : CountSubscriptions();

    public int Connected => -1;

    public async ValueTask BroadcastAsync(int index, long sentAt) =>
        await dispatcher.BroadcastAsync(Sender, Tick(index, sentAt));

    public async ValueTask PostToRoomAsync(string room, int index, long sentAt) =>
        await dispatcher.PostToChannelAsync(room, Sender, Tick(index, sentAt));

    private static Dictionary<string, object?> Tick(int index, long sentAt) =>
        new() { ["event"] = "tick", ["i"] = index, ["t"] = sentAt };

    private int CountSubscriptions()
    {
        var count = 0;
        for (var room = 0; room < Rooms.Count; room++)
        {
            count += dispatcher.GetSubscribers(Rooms.Name(room)).Count;
        }

        return count;
    }
}
