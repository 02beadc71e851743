namespace Comety.Chat.Controllers;

/// <summary>What the chat keeps in a browser's session.</summary>
internal static class ChatSession
{
    public const string UserId = "chat.user";
    public const string Room = "chat.room";
    public const string Name = "chat.name";
}
