namespace Comety.Tests.Packaging.Infrastructure;

/// <summary>
/// What the README leaves to the application, kept as small as a first application would have it:
/// a sign-in that believes whoever a visitor says they are, a store of rooms with their messages,
/// the page of a room, and a way to say something in a room (which posts the event the room's
/// pages receive). The README's <c>#sign-in</c> and <c>#room-action</c> blocks go inside it.
/// </summary>
internal static class ReadmeAppOwnCode
{
    /// <summary>The sign-in, with the user's id in the query: <c>?userId=ann</c>. It leads to <see cref="RoomPath"/>.</summary>
    public const string SignInPath = "/Account/SignIn";

    /// <summary>The page of the room everybody is in; the README's layout renders the script on it.</summary>
    public const string RoomPath = "/Rooms/Room/lobby";

    /// <summary>A form post of <c>text</c> says it in the room: the message joins the room's data, and its event goes to the room's channel.</summary>
    public const string SayPath = "/Rooms/Say/lobby";

    /// <summary>Lines the application adds to files the template made, placed as README blocks are (<see cref="SnippetMerge"/>).</summary>
    public static IEnumerable<(string Path, string[] Lines)> Additions =>
    [
        ("Program.cs", ["builder.Services.AddControllersWithViews();", "builder.Services.AddSingleton<RoomStore>();"]),
    ];

    /// <summary>The application's own files, with the README's blocks for it in their places.</summary>
    public static IEnumerable<(string Path, string Text)> Files(IReadOnlyDictionary<string, ReadmeSnippet> slots)
    {
        Assert.Equal(new[] { "room-action", "sign-in" }, slots.Keys.Order(StringComparer.Ordinal));

        yield return (Path.Combine("Controllers", "AccountController.cs"), $$"""
            using Comety;
            using Microsoft.AspNetCore.Mvc;

            namespace {{ReadmeApp.Name}}.Controllers;

            public sealed class AccountController(CometyDispatcher dispatcher) : Controller
            {
                // Whoever the visitor says: a stand-in for a real sign-in, which checks.
                public async Task<IActionResult> SignIn(string userId)
                {
            {{Indent(slots["sign-in"], 8)}}
                    return Redirect("{{RoomPath}}");
                }
            }

            """);

        yield return (Path.Combine("Controllers", "RoomsController.cs"), $$"""
            using Comety;
            using Microsoft.AspNetCore.Mvc;

            namespace {{ReadmeApp.Name}}.Controllers;

            public sealed class RoomsController(CometyDispatcher dispatcher, RoomStore rooms) : Controller
            {
            {{Indent(slots["room-action"], 4)}}

                // Under the room's gate, as the README's Room action reads it: a page shows a message
                // either in its data or as an event after its position, never both, never neither.
                [HttpPost]
                public async Task<IActionResult> Say(string id, string text, CancellationToken cancellationToken)
                {
                    var room = rooms.Find(id);
                    await room.Gate.WaitAsync(cancellationToken);
                    try
                    {
                        room.Messages.Add(text);
                        await dispatcher.PostToChannelAsync("room:" + id, "rooms", new Dictionary<string, object?>
                        {
                            ["event"] = "message",
                            ["text"] = text,
                        }, cancellationToken);
                    }
                    finally
                    {
                        room.Gate.Release();
                    }

                    return NoContent();
                }
            }

            """);

        yield return ("Room.cs", """
            public sealed class Room
            {
                public SemaphoreSlim Gate { get; } = new(1, 1);

                public List<string> Messages { get; } = [];
            }

            """);

        yield return ("RoomStore.cs", """
            using System.Collections.Concurrent;

            public sealed class RoomStore
            {
                private readonly ConcurrentDictionary<string, Room> _rooms = new(StringComparer.Ordinal);

                public Room Find(string id) => _rooms.GetOrAdd(id, static _ => new Room());
            }

            """);

        yield return (Path.Combine("Views", "Rooms", "Room.cshtml"), """
            @model List<string>
            @{
                ViewData["Title"] = "Lobby";
            }
            <ul id="messages">
                @foreach (var message in Model)
                {
                    <li>@message</li>
                }
            </ul>

            """);
    }

    private static string Indent(ReadmeSnippet snippet, int spaces) =>
        string.Join('\n', snippet.Lines.Select(line => line.Length == 0 ? line : new string(' ', spaces) + line));
}
