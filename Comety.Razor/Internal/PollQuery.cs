using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace Comety.Internal;

/// <summary>The parameters of a poll, read from its query string exactly as the protocol describes.</summary>
internal readonly record struct PollQuery(TimeSpan? Timeout, long? Confirm, TimeSpan? Elapsed, string? InvalidElapsed)
{
    private const NumberStyles Decimal = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint;

    /// <summary>
    /// Reads the raw query string as <see cref="HttpRequest.Query"/> would (names case-insensitive,
    /// names and values URL-decoded), without building that collection: a poll keeps what it
    /// allocates until it is answered. Returns the reason the query is invalid, or null.
    /// A stream's <c>timeout</c> is optional (PROTOCOL.md, version 2); a poll's is required.
    /// </summary>
    public static string? TryParse(QueryString queryString, TimeSpan maxTimeout, bool timeoutRequired, out PollQuery result)
    {
        result = default;
        Parameter timeoutText = default, confirmText = default, elapsedText = default;
        foreach (var pair in new QueryStringEnumerable(queryString.Value))
        {
            var name = pair.DecodeName().Span;
            if (name.Equals("timeout", StringComparison.OrdinalIgnoreCase))
            {
                timeoutText.Add(pair);
            }
            else if (name.Equals("confirm", StringComparison.OrdinalIgnoreCase))
            {
                confirmText.Add(pair);
            }
            else if (name.Equals("elapsed", StringComparison.OrdinalIgnoreCase))
            {
                elapsedText.Add(pair);
            }
        }

        if (timeoutText.Count > 1)
        {
            return "The 'timeout' parameter was given more than once.";
        }

        TimeSpan? timeout = null;
        if (timeoutText.Count == 0)
        {
            if (timeoutRequired)
            {
                return "The 'timeout' parameter is required: the seconds the client waits for this response.";
            }
        }
        else
        {
            if (!double.TryParse(timeoutText.Value.Span, Decimal, CultureInfo.InvariantCulture, out var seconds) || !double.IsFinite(seconds))
            {
                return $"The 'timeout' parameter must be a decimal number of seconds; got '{Truncate(timeoutText)}'.";
            }

            if (seconds < 0 || seconds > maxTimeout.TotalSeconds)
            {
                return $"The 'timeout' parameter must be between 0 and {maxTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds; got {Truncate(timeoutText)}.";
            }

            timeout = TimeSpan.FromSeconds(seconds);
        }

        long? confirm = null;
        if (confirmText.Count > 1)
        {
            return "The 'confirm' parameter was given more than once.";
        }

        if (confirmText.Count == 1)
        {
            if (!long.TryParse(confirmText.Value.Span, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                return $"The 'confirm' parameter must be an integer sequence number; got '{Truncate(confirmText)}'.";
            }

            if (value < 0)
            {
                return $"The 'confirm' parameter must be a sequence number, 0 or more; got {value}.";
            }

            confirm = value;
        }

        TimeSpan? elapsed = null;
        string? invalidElapsed = null;
        if (elapsedText.Count > 1)
        {
            invalidElapsed = "(given more than once)";
        }
        else if (elapsedText.Count == 1)
        {
            if (double.TryParse(elapsedText.Value.Span, Decimal, CultureInfo.InvariantCulture, out var elapsedSeconds)
                && double.IsFinite(elapsedSeconds) && elapsedSeconds >= 0 && elapsedSeconds <= TimeSpan.MaxValue.TotalSeconds / 2)
            {
                elapsed = TimeSpan.FromSeconds(elapsedSeconds);
            }
            else
            {
                invalidElapsed = Truncate(elapsedText);
            }
        }

        result = new PollQuery(timeout, confirm, elapsed, invalidElapsed);
        return null;
    }

    private static string Truncate(Parameter parameter)
    {
        var text = parameter.Value.Span;
        return text.Length > 40 ? string.Concat(text[..40], "…") : text.ToString();
    }

    /// <summary>One parameter's value, decoded, and how many times the parameter appeared.</summary>
    private struct Parameter
    {
        public int Count;
        public ReadOnlyMemory<char> Value;

        public void Add(QueryStringEnumerable.EncodedNameValuePair pair)
        {
            Count++;
            Value = Count == 1 ? pair.DecodeValue() : default;
        }
    }
}
