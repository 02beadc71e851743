using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Comety.Chat.Chat;

/// <summary>The rooms, in memory: nothing to set up, gone when the application stops.</summary>
public sealed class RoomStore
{
    public const int MaxNameLength = 40;

    private readonly ConcurrentDictionary<string, Room> _rooms = new(StringComparer.Ordinal);

    public RoomStore() => TryCreate("Lobby", out _);

    public IReadOnlyList<Room> All() => [.. _rooms.Values.OrderBy(r => r.Name, StringComparer.CurrentCultureIgnoreCase)];

    public Room? Find(string slug) => _rooms.GetValueOrDefault(slug);

    public Room? FindByChannel(string channel) =>
        channel.StartsWith("room:", StringComparison.Ordinal) ? Find(channel["room:".Length..]) : null;

    /// <summary>Creates a room, or finds the one that already has the name's slug.</summary>
    public bool TryCreate(string name, out Room room)
    {
        var slug = Slugify(name);
        if (slug.Length == 0)
        {
            room = null!;
            return false;
        }

        room = _rooms.GetOrAdd(slug, s => new Room(s, name.Trim()));
        return true;
    }

    /// <summary>The slug of a room name: lower-case letters and digits, words joined by hyphens; empty when it has none.</summary>
    public static string Slugify(string name)
    {
        var slug = new StringBuilder();
        foreach (var c in name.Trim().ToLower(CultureInfo.InvariantCulture).Normalize(NormalizationForm.FormD))
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                slug.Append(c);
            }
            else if ((char.IsWhiteSpace(c) || c is '-' or '_') && slug.Length > 0 && slug[^1] != '-')
            {
                slug.Append('-');
            }
        }

        return slug.ToString().Trim('-');
    }
}
