namespace Comety.Chat.Chat;

/// <summary>A chat room: who is in it and what was said, kept in memory.</summary>
public sealed class Room(string slug, string name)
{
    public const int HistoryLength = 200;

    private readonly Dictionary<string, string> _members = new(StringComparer.Ordinal);
    private readonly Queue<ChatLine> _history = new();

    public string Slug { get; } = slug;

    public string Name { get; } = name;

    /// <summary>The Comety channel the room's events go to.</summary>
    public string Channel => "room:" + Slug;

    /// <summary>Serializes what is said and shown in the room, so a page renders a consistent moment.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    public int MemberCount
    {
        get
        {
            lock (_members)
            {
                return _members.Count;
            }
        }
    }

    /// <summary>The room as the pages name it, now.</summary>
    public RoomInfo Info() => new(Slug, Name, MemberCount);

    public IReadOnlyList<string> MemberNames()
    {
        lock (_members)
        {
            return [.. _members.Values.Order(StringComparer.CurrentCultureIgnoreCase)];
        }
    }

    public bool TryAddMember(string userId, string memberName)
    {
        lock (_members)
        {
            if (_members.Values.Any(n => string.Equals(n, memberName, StringComparison.OrdinalIgnoreCase)))
            {
                return false;
            }

            _members[userId] = memberName;
            return true;
        }
    }

    public string? FindMember(string userId)
    {
        lock (_members)
        {
            return _members.GetValueOrDefault(userId);
        }
    }

    public string? RemoveMember(string userId)
    {
        lock (_members)
        {
            return _members.Remove(userId, out var memberName) ? memberName : null;
        }
    }

    public void AddLine(ChatLine line)
    {
        lock (_history)
        {
            _history.Enqueue(line);
            while (_history.Count > HistoryLength)
            {
                _history.Dequeue();
            }
        }
    }

    public IReadOnlyList<ChatLine> History()
    {
        lock (_history)
        {
            return [.. _history];
        }
    }
}
