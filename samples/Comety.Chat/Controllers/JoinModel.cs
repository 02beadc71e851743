using Comety.Chat.Chat;

namespace Comety.Chat.Controllers;

public sealed record JoinModel(Room Room, string? Name, string? Error);
