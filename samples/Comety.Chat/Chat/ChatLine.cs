namespace Comety.Chat.Chat;

/// <summary>One line of a room's history: a message, or someone joining or leaving.</summary>
/// <param name="Kind"><c>message</c>, <c>join</c> or <c>leave</c>, as the event type.</param>
public sealed record ChatLine(string Kind, string Name, string? Text, DateTimeOffset At, long Sequence);
