namespace Comety.Chat.Chat;

/// <summary>
/// The chat's rooms and what people do in them. <see cref="ChatService"/> keeps everything in
/// memory (one server); <see cref="PostgreSql.PostgreSqlChat"/> keeps it in PostgreSQL, beside
/// Comety's log, so that several servers share it.
/// </summary>
public interface IChat
{
    /// <summary>Every room, by name.</summary>
    Task<IReadOnlyList<RoomInfo>> RoomsAsync(CancellationToken cancellationToken);

    Task<RoomInfo?> FindRoomAsync(string slug, CancellationToken cancellationToken);

    /// <summary>Creates a room, or finds the one that already has the name's slug; null when the name has no letter or digit.</summary>
    Task<RoomInfo?> CreateRoomAsync(string name, CancellationToken cancellationToken);

    /// <summary>Registers a new user in a room under a name; null when the name is taken there.</summary>
    Task<string?> JoinAsync(RoomInfo room, string name, CancellationToken cancellationToken);

    /// <summary>Says something in a room, for a member of it.</summary>
    Task SayAsync(RoomInfo room, string userId, string text);

    /// <summary>Takes a user out of its room: a leave button, or Comety's Unsubscribed event.</summary>
    Task LeftAsync(RoomInfo room, string userId);

    /// <summary>What a page shows of a room, and the position it shows it at (render, then resume).</summary>
    Task<RoomSnapshot> SnapshotAsync(RoomInfo room, CancellationToken cancellationToken);

    /// <summary>Whether the user is a registered Comety user and a member of the room.</summary>
    Task<bool> IsInRoomAsync(RoomInfo room, string? userId, CancellationToken cancellationToken);

    /// <summary>Whether the user is listed as a member of the room.</summary>
    Task<bool> IsMemberAsync(RoomInfo room, string userId, CancellationToken cancellationToken);
}

/// <summary>A room as the pages name it: its slug, its name, and how many people are in it.</summary>
public sealed record RoomInfo(string Slug, string Name, int MemberCount)
{
    /// <summary>The Comety channel the room's events go to.</summary>
    public string Channel => "room:" + Slug;

    /// <summary>The room a channel belongs to, or null for another channel.</summary>
    public static string? SlugOf(string channel) =>
        channel.StartsWith("room:", StringComparison.Ordinal) ? channel["room:".Length..] : null;
}
