using Comety.Chat.Chat;

namespace Comety.Chat.Controllers;

public sealed record JoinModel(RoomInfo Room, string? Name, string? Error);
