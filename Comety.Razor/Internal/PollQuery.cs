using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Comety.Internal;

/// <summary>The parameters of a poll, read from its query string exactly as the protocol describes.</summary>
internal readonly record struct PollQuery(TimeSpan Timeout, long? Confirm, TimeSpan? Elapsed, string? InvalidElapsed)
{
    private const NumberStyles Decimal = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint;

    /// <summary>Reads the query; returns the reason it is invalid, or null.</summary>
    public static string? TryParse(IQueryCollection query, TimeSpan maxTimeout, long lastSequence, out PollQuery result)
    {
        result = default;
        if (!TrySingle(query, "timeout", out var timeoutText))
        {
            return "The 'timeout' parameter was given more than once.";
        }

        if (timeoutText is null)
        {
            return "The 'timeout' parameter is required: the seconds the client waits for this response.";
        }

        if (!double.TryParse(timeoutText, Decimal, CultureInfo.InvariantCulture, out var seconds) || !double.IsFinite(seconds))
        {
            return $"The 'timeout' parameter must be a decimal number of seconds; got '{Truncate(timeoutText)}'.";
        }

        if (seconds < 0 || seconds > maxTimeout.TotalSeconds)
        {
            return $"The 'timeout' parameter must be between 0 and {maxTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds; got {Truncate(timeoutText)}.";
        }

        long? confirm = null;
        if (!TrySingle(query, "confirm", out var confirmText))
        {
            return "The 'confirm' parameter was given more than once.";
        }

        if (confirmText is not null)
        {
            if (!long.TryParse(confirmText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                return $"The 'confirm' parameter must be an integer sequence number; got '{Truncate(confirmText)}'.";
            }

            if (value < 0 || value > lastSequence)
            {
                return $"The 'confirm' parameter must be between 0 and the last sequence number issued, {lastSequence}; got {value}.";
            }

            confirm = value;
        }

        TimeSpan? elapsed = null;
        string? invalidElapsed = null;
        if (!TrySingle(query, "elapsed", out var elapsedText))
        {
            invalidElapsed = "(given more than once)";
        }
        else if (elapsedText is not null)
        {
            if (double.TryParse(elapsedText, Decimal, CultureInfo.InvariantCulture, out var elapsedSeconds)
                && double.IsFinite(elapsedSeconds) && elapsedSeconds >= 0 && elapsedSeconds <= TimeSpan.MaxValue.TotalSeconds / 2)
            {
                elapsed = TimeSpan.FromSeconds(elapsedSeconds);
            }
            else
            {
                invalidElapsed = Truncate(elapsedText);
            }
        }

        result = new PollQuery(TimeSpan.FromSeconds(seconds), confirm, elapsed, invalidElapsed);
        return null;
    }

    // False when the parameter appears more than once; text is null when it is absent.
    private static bool TrySingle(IQueryCollection query, string name, out string? text)
    {
        text = null;
        if (!query.TryGetValue(name, out StringValues values))
        {
            return true;
        }

        if (values.Count != 1)
        {
            return false;
        }

        text = values[0];
        return true;
    }

    private static string Truncate(string? text) => text is { Length: > 40 } ? text[..40] + "…" : text ?? string.Empty;
}
