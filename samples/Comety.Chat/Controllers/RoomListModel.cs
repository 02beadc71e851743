using Comety.Chat.Chat;

namespace Comety.Chat.Controllers;

public sealed record RoomListModel(IReadOnlyList<RoomInfo> Rooms, string? NewRoomName, string? Error);
