using Comety.Chat.Chat;
using Microsoft.AspNetCore.Mvc;

namespace Comety.Chat.Controllers;

/// <summary>The room list, and each room's page: join with a name, talk, leave.</summary>
public sealed class RoomsController(IChat chat, CometyDispatcher dispatcher) : Controller
{
    [HttpGet("/")]
    public async Task<IActionResult> Index(CancellationToken cancellationToken) => View(new RoomListModel(await chat.RoomsAsync(cancellationToken), null, null));

    [HttpPost("/rooms")]
    public async Task<IActionResult> Create(string? name, CancellationToken cancellationToken)
    {
        name = name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > RoomStore.MaxNameLength || await chat.CreateRoomAsync(name, cancellationToken) is not { } room)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return View(nameof(Index), new RoomListModel(await chat.RoomsAsync(cancellationToken), name, $"A room name has 1 to {RoomStore.MaxNameLength} characters, with letters or digits."));
        }

        return RedirectToAction(nameof(Room), new { slug = room.Slug });
    }

    [HttpGet("/rooms/{slug}")]
    public async Task<IActionResult> Room(string slug, CancellationToken cancellationToken)
    {
        if (await chat.FindRoomAsync(slug, cancellationToken) is not { } room)
        {
            return NotFound();
        }

        var userId = HttpContext.Session.GetString(ChatSession.UserId);
        if (!await chat.IsInRoomAsync(room, userId, cancellationToken) || HttpContext.Session.GetString(ChatSession.Room) != room.Slug)
        {
            return View("Join", new JoinModel(room, HttpContext.Session.GetString(ChatSession.Name), null));
        }

        var snapshot = await chat.SnapshotAsync(room, cancellationToken);
        ViewData["CometyPosition"] = snapshot.RenderedAt;
        return View(snapshot);
    }

    [HttpPost("/rooms/{slug}/join")]
    public async Task<IActionResult> Join(string slug, string? name, CancellationToken cancellationToken)
    {
        if (await chat.FindRoomAsync(slug, cancellationToken) is not { } room)
        {
            return NotFound();
        }

        name = name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > RoomStore.MaxNameLength)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return View(new JoinModel(room, name, $"A name has 1 to {RoomStore.MaxNameLength} characters."));
        }

        await LeaveCurrentRoomAsync();
        var userId = await chat.JoinAsync(room, name, cancellationToken);
        if (userId is null)
        {
            Response.StatusCode = StatusCodes.Status409Conflict;
            return View(new JoinModel(room, name, $"The name “{name}” is in use in {room.Name}. Choose another."));
        }

        HttpContext.Session.SetString(ChatSession.UserId, userId);
        HttpContext.Session.SetString(ChatSession.Room, room.Slug);
        HttpContext.Session.SetString(ChatSession.Name, name);
        return RedirectToAction(nameof(Room), new { slug = room.Slug });
    }

    [HttpPost("/rooms/{slug}/leave")]
    public async Task<IActionResult> Leave(string slug)
    {
        await LeaveCurrentRoomAsync();
        return RedirectToAction(nameof(Index));
    }

    // Unregistering raises Finished, whose handler announces the departure to the room.
    private async Task LeaveCurrentRoomAsync()
    {
        if (HttpContext.Session.GetString(ChatSession.UserId) is { } userId)
        {
            HttpContext.Session.Remove(ChatSession.UserId);
            HttpContext.Session.Remove(ChatSession.Room);
            // On a shared log, this server's view may lag a moment behind the server that registered the user.
            await dispatcher.CatchUpAsync(null);
            if (dispatcher.IsRegistered(userId))
            {
                try
                {
                    await dispatcher.UnregisterUserAsync(userId);
                }
                catch (UnknownUserException)
                {
                    // Its heartbeat timed out meanwhile.
                }
            }
        }
    }
}
