namespace Comety.Chat.Chat;

/// <summary>
/// What people do in rooms, and the Comety events that tell the others: each room is one
/// channel; joining, speaking and leaving post <c>join</c>, <c>message</c> and <c>leave</c> to it.
/// Everything is in memory (<see cref="RoomStore"/>), for one server.
/// </summary>
public sealed class ChatService(CometyDispatcher dispatcher, RoomStore rooms, TimeProvider clock) : IChat
{
    public const int MaxMessageLength = 500;
    private const string Sender = ChatLine.Sender;

    public Task<IReadOnlyList<RoomInfo>> RoomsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<RoomInfo>>([.. rooms.All().Select(static r => r.Info())]);

    public Task<RoomInfo?> FindRoomAsync(string slug, CancellationToken cancellationToken) =>
        Task.FromResult(rooms.Find(slug)?.Info());

    public Task<RoomInfo?> CreateRoomAsync(string name, CancellationToken cancellationToken) =>
        Task.FromResult(rooms.TryCreate(name, out var room) ? room.Info() : null);

    public Task<string?> JoinAsync(RoomInfo room, string name, CancellationToken cancellationToken) =>
        rooms.Find(room.Slug) is { } found ? JoinAsync(found, name, cancellationToken) : Task.FromResult<string?>(null);

    public Task SayAsync(RoomInfo room, string userId, string text) =>
        rooms.Find(room.Slug) is { } found ? SayAsync(found, userId, text) : Task.CompletedTask;

    public Task LeftAsync(RoomInfo room, string userId) =>
        rooms.Find(room.Slug) is { } found ? LeftAsync(found, userId) : Task.CompletedTask;

    public async Task<RoomSnapshot> SnapshotAsync(RoomInfo room, CancellationToken cancellationToken) =>
        await SnapshotAsync(rooms.Find(room.Slug) ?? throw new InvalidOperationException($"No room {room.Slug}."), cancellationToken);

    public Task<bool> IsInRoomAsync(RoomInfo room, string? userId, CancellationToken cancellationToken) =>
        Task.FromResult(rooms.Find(room.Slug) is { } found && IsInRoom(found, userId));

    public Task<bool> IsMemberAsync(RoomInfo room, string userId, CancellationToken cancellationToken) =>
        Task.FromResult(rooms.Find(room.Slug)?.FindMember(userId) is not null);

    /// <summary>Registers a new user in a room under a name; fails when the name is taken there.</summary>
    public async Task<string?> JoinAsync(Room room, string name, CancellationToken cancellationToken)
    {
        var userId = Guid.NewGuid().ToString("N");
        await room.Gate.WaitAsync(cancellationToken);
        try
        {
            if (!room.TryAddMember(userId, name))
            {
                return null;
            }

            await dispatcher.RegisterUserAsync(userId, cancellationToken: cancellationToken);
            await dispatcher.SubscribeAsync(userId, room.Channel, cancellationToken);
            await PostLockedAsync(room, "join", name, text: null);
            return userId;
        }
        finally
        {
            room.Gate.Release();
        }
    }

    /// <summary>Says something in a room, for a member of it.</summary>
    public async Task SayAsync(Room room, string userId, string text)
    {
        text = text.Trim();
        if (text.Length is 0 or > MaxMessageLength)
        {
            return;
        }

        await room.Gate.WaitAsync();
        try
        {
            if (room.FindMember(userId) is { } name)
            {
                await PostLockedAsync(room, "message", name, text);
            }
        }
        finally
        {
            room.Gate.Release();
        }
    }

    /// <summary>Takes a user out of its room: a leave button, or Comety's Finished event after a heartbeat timeout.</summary>
    public async Task LeftAsync(Room room, string userId)
    {
        await room.Gate.WaitAsync();
        try
        {
            if (room.RemoveMember(userId) is { } name)
            {
                await PostLockedAsync(room, "leave", name, text: null);
            }
        }
        finally
        {
            room.Gate.Release();
        }
    }

    /// <summary>
    /// What a page shows of a room, and the position it shows it at, read under the room's gate
    /// with the history: the page's first poll resumes exactly there, so it neither misses nor
    /// repeats a line.
    /// </summary>
    public async Task<RoomSnapshot> SnapshotAsync(Room room, CancellationToken cancellationToken)
    {
        await room.Gate.WaitAsync(cancellationToken);
        try
        {
            var renderedAt = dispatcher.LastSequence;
            return new RoomSnapshot(room.Info(), room.MemberNames(), room.History(), renderedAt);
        }
        finally
        {
            room.Gate.Release();
        }
    }

    public bool IsInRoom(Room room, string? userId) =>
        userId is not null && dispatcher.IsRegistered(userId) && room.FindMember(userId) is not null;

    // Under the room's gate, so that the history and the events agree on the order.
    private async Task PostLockedAsync(Room room, string kind, string name, string? text)
    {
        var at = clock.GetUtcNow();
        var args = ChatLine.EventArgs(kind, name, text, at);

        var sequence = await dispatcher.PostToChannelAsync(room.Channel, Sender, args);
        room.AddLine(new ChatLine(kind, name, text, at, sequence ?? 0));
    }
}
