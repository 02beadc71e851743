namespace Comety.Chat.Chat;

/// <summary>A room as a page shows it, at sequence number <see cref="RenderedAt"/>.</summary>
public sealed record RoomSnapshot(RoomInfo Room, IReadOnlyList<string> Members, IReadOnlyList<ChatLine> History, long RenderedAt);
