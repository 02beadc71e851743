using Comety.Chat.Chat;

namespace Comety.Chat.Controllers;

public sealed record RoomListModel(IReadOnlyList<Room> Rooms, string? NewRoomName, string? Error);
