using Comety.Chat.Chat;
using Microsoft.AspNetCore.Mvc;

namespace Comety.Chat.Controllers;

/// <summary>
/// The chat's updates URL, mapped with <c>app.MapComety&lt;ChatUpdatesController&gt;("chat/updates")</c>:
/// the user is the one this browser session joined a room as.
/// </summary>
public sealed class ChatUpdatesController(IChat chat) : CometyController
{
    protected override string? GetUserId() => HttpContext.Session.GetString(ChatSession.UserId);

    // Joining a room subscribes its new member to the room's channel; a page asks for no channel
    // of its own. appsettings.json opens the rooms' channels ("room:*") to pages, and the base hook
    // checks that; this narrows it to the member's own room, so that no member can call
    // comety.subscribe('room:...') and hear a room it never joined, unseen by its members.
    protected override async ValueTask<bool> AuthorizeSubscriptionAsync(string userId, string channel, CancellationToken cancellationToken) =>
        await base.AuthorizeSubscriptionAsync(userId, channel, cancellationToken)
        && HttpContext.Session.GetString(ChatSession.Room) is { } slug
        && await chat.FindRoomAsync(slug, cancellationToken) is { } room
        && room.Channel == channel
        && await chat.IsMemberAsync(room, userId, cancellationToken);
}
