using Microsoft.AspNetCore.Mvc;

namespace Comety.Chat.Controllers;

/// <summary>The chat's updates URL: the user is the one this browser session joined a room as.</summary>
[Route("chat/updates")]
public sealed class ChatUpdatesController : CometyController
{
    protected override string? GetUserId() => HttpContext.Session.GetString(ChatSession.UserId);
}
