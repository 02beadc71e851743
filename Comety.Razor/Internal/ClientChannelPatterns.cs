namespace Comety.Internal;

/// <summary>
/// The channels pages may join by themselves (<see cref="CometyOptions.ClientChannels"/>), read once:
/// each pattern is an exact channel name, or a name prefix followed by one trailing <c>*</c>.
/// </summary>
/// <remarks>
/// Deliberately not regular expressions. This is an allow-list for names a client chooses, so it
/// must fail closed and read at a glance: a regular expression is matched anywhere unless anchored,
/// as the lifecycle handlers' patterns are, so <c>room</c> would also open <c>admin-room</c>; and
/// matching a client's string against one needs a timeout against catastrophic backtracking. An
/// exact name or a prefix says what it opens, and matching costs one ordinal comparison per prefix.
/// </remarks>
internal sealed class ClientChannelPatterns
{
    public const char Wildcard = '*';

    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly List<string> _prefixes = [];

    /// <summary>Reads patterns that <see cref="Check"/> accepts.</summary>
    /// <exception cref="ArgumentException">A pattern is invalid.</exception>
    public ClientChannelPatterns(IEnumerable<string?> patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        foreach (var pattern in patterns)
        {
            if (Check(pattern) is { } invalid)
            {
                throw new ArgumentException($"'{pattern}' is not a channel pattern: {invalid}", nameof(patterns));
            }

            if (pattern![^1] == Wildcard)
            {
                _prefixes.Add(pattern[..^1]);
            }
            else
            {
                _names.Add(pattern);
            }
        }
    }

    /// <summary>Returns whether a channel name matches one of the patterns (ordinal, case-sensitive, as channel names are compared).</summary>
    public bool Matches(string channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        if (_names.Contains(channel))
        {
            return true;
        }

        foreach (var prefix in _prefixes)
        {
            if (channel.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Returns why a pattern is invalid, or null when it is valid.</summary>
    public static string? Check(string? pattern)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            return "a pattern must not be empty (\"*\" opens every channel).";
        }

        var wildcard = pattern.IndexOf(Wildcard, StringComparison.Ordinal);
        if (wildcard >= 0 && wildcard != pattern.Length - 1)
        {
            return "'*' may only end a pattern, once (\"room:*\" opens every channel whose name starts with \"room:\").";
        }

        // White space at either end is legal in a channel name but is almost always a slip in the
        // configuration file, and would silently match nothing the author meant.
        if (char.IsWhiteSpace(pattern[0]) || char.IsWhiteSpace(pattern[^1]))
        {
            return "a pattern must not start or end with white space.";
        }

        var name = wildcard >= 0 ? pattern[..^1] : pattern;
        if (name.Length > 0 && !CometyDispatcher.IsValidChannelName(name))
        {
            return $"a channel name (or prefix) has 1 to {CometyDispatcher.MaxChannelNameLength} characters with no control characters, so this pattern could never match.";
        }

        return null;
    }
}
