using System.Collections.Immutable;
using System.Text.RegularExpressions;

namespace Comety.Internal;

/// <summary>
/// The handlers bound to each lifecycle event, with their channel patterns, and the
/// django-socketio rule for which of them run.
/// </summary>
internal sealed class LifecycleHandlers
{
    private static readonly TimeSpan PatternMatchTimeout = TimeSpan.FromSeconds(1);

    private readonly ImmutableArray<Binding>[] _bindings =
        Enumerable.Repeat(ImmutableArray<Binding>.Empty, Enum.GetValues<LifecycleEvent>().Length).ToArray();

    public bool HasAny(LifecycleEvent lifecycleEvent) => !_bindings[(int)lifecycleEvent].IsEmpty;

    public IDisposable Add(LifecycleEvent lifecycleEvent, Func<LifecycleContext, ValueTask> handler, string? channelPattern)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!Enum.IsDefined(lifecycleEvent))
        {
            throw new ArgumentOutOfRangeException(nameof(lifecycleEvent), lifecycleEvent, "Unknown lifecycle event.");
        }

        if (lifecycleEvent == LifecycleEvent.Connected && channelPattern is not null)
        {
            throw new ArgumentException("Connected handlers take no channel pattern: a user has no channels when it connects.", nameof(channelPattern));
        }

        Regex? pattern = null;
        if (channelPattern is not null)
        {
            try
            {
                pattern = new Regex(channelPattern, RegexOptions.CultureInvariant, PatternMatchTimeout);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"'{channelPattern}' is not a valid regular expression: {e.Message}", nameof(channelPattern), e);
            }
        }

        var binding = new Binding(handler, pattern);
        ImmutableInterlocked.Update(ref _bindings[(int)lifecycleEvent], static (list, b) => list.Add(b), binding);
        return new Removal(this, lifecycleEvent, binding);
    }

    /// <summary>
    /// Returns the handlers that run for an event, each with the channels that made it run.
    /// Subscribe and unsubscribe handlers match the channel joined or left; the others match the
    /// user's channels (a message sent to a channel: that channel), and a handler without a pattern
    /// runs only for a user with no channels.
    /// </summary>
    public List<(Func<LifecycleContext, ValueTask> Handler, IReadOnlyList<string> MatchedChannels)> Select(
        LifecycleEvent lifecycleEvent, string? channel, IReadOnlyCollection<string> userChannels)
    {
        var bindings = _bindings[(int)lifecycleEvent];
        var selected = new List<(Func<LifecycleContext, ValueTask>, IReadOnlyList<string>)>(bindings.Length);
        foreach (var binding in bindings)
        {
            if (Match(binding.Pattern, lifecycleEvent, channel, userChannels) is { } matched)
            {
                selected.Add((binding.Handler, matched));
            }
        }

        return selected;
    }

    // The channels a handler runs for, or null when it does not run.
    private static string[]? Match(Regex? pattern, LifecycleEvent lifecycleEvent, string? channel, IReadOnlyCollection<string> userChannels)
    {
        switch (lifecycleEvent)
        {
            case LifecycleEvent.Connected:
                return [];
            case LifecycleEvent.Subscribed or LifecycleEvent.Unsubscribed:
                return pattern is null || pattern.IsMatch(channel!) ? [channel!] : null;
            case LifecycleEvent.Message when channel is not null:
                return pattern is not null && pattern.IsMatch(channel) ? [channel] : null;
            default:
                if (pattern is null)
                {
                    return userChannels.Count == 0 ? [] : null;
                }

                List<string>? matched = null;
                foreach (var userChannel in userChannels)
                {
                    if (pattern.IsMatch(userChannel))
                    {
                        (matched ??= []).Add(userChannel);
                    }
                }

                if (matched is null)
                {
                    return null;
                }

                // In a stable order, whatever order the user's set keeps them in.
                matched.Sort(StringComparer.Ordinal);
                return [.. matched];
        }
    }

    private sealed record Binding(Func<LifecycleContext, ValueTask> Handler, Regex? Pattern);

    private sealed class Removal(LifecycleHandlers owner, LifecycleEvent lifecycleEvent, Binding binding) : IDisposable
    {
        public void Dispose() =>
            ImmutableInterlocked.Update(ref owner._bindings[(int)lifecycleEvent], static (list, b) => list.Remove(b), binding);
    }
}
