namespace Comety.Internal;

/// <summary>The rule for channel names: 1 to 200 characters with no control characters.</summary>
internal static class ChannelName
{
    public const int MaxLength = 200;

    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }

    public static void ThrowIfInvalid(string? name, string paramName)
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        if (!IsValid(name))
        {
            throw new ArgumentException($"A channel name is 1 to {MaxLength} characters with no control characters; got {name.Length} characters.", paramName);
        }
    }
}
