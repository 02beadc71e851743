using System.Text.Json;

namespace Comety;

/// <summary>What a lifecycle handler is told about the event it handles.</summary>
public sealed class LifecycleContext
{
    internal LifecycleContext(
        CometyDispatcher dispatcher,
        LifecycleEvent lifecycleEvent,
        string? userId,
        string? channel = null,
        IReadOnlyList<string>? matchedChannels = null,
        JsonElement? data = null,
        Exception? exception = null,
        CancellationToken cancellationToken = default)
    {
        Dispatcher = dispatcher;
        Event = lifecycleEvent;
        UserId = userId;
        Channel = channel;
        MatchedChannels = matchedChannels ?? [];
        Data = data;
        Exception = exception;
        CancellationToken = cancellationToken;
    }

    /// <summary>Gets the dispatcher that raised the event.</summary>
    public CometyDispatcher Dispatcher { get; }

    /// <summary>Gets which lifecycle event this is.</summary>
    public LifecycleEvent Event { get; }

    /// <summary>Gets the user concerned, or <see langword="null"/> for an error no user can be blamed for.</summary>
    public string? UserId { get; }

    /// <summary>Gets the channel joined or left, or the channel a message was sent to; otherwise <see langword="null"/>.</summary>
    public string? Channel { get; }

    /// <summary>
    /// Gets the channels that made this handler run, in ordinal order: for
    /// <see cref="LifecycleEvent.Subscribed"/> and <see cref="LifecycleEvent.Unsubscribed"/>, the
    /// channel joined or left; for a message sent to a channel, that channel (the user is subscribed
    /// to it: a message to any other channel runs no handler); for the other events, the user's
    /// channels that the handler's pattern matches. Empty for a handler without a pattern (which runs
    /// for a user in no channel) and for <see cref="LifecycleEvent.Connected"/>.
    /// </summary>
    /// <remarks>
    /// A handler bound to a pattern that posts only to these channels posts only where the user is
    /// (or, on <see cref="LifecycleEvent.Unsubscribed"/>, was) subscribed, and never to everyone:
    /// unlike <see cref="Channel"/>, this is never <see langword="null"/>, including for a message sent
    /// without a channel, where it holds the user's matching channels.
    /// </remarks>
    public IReadOnlyList<string> MatchedChannels { get; }

    /// <summary>Gets the data a page sent, for <see cref="LifecycleEvent.Message"/>.</summary>
    public JsonElement? Data { get; }

    /// <summary>Gets what failed, for <see cref="LifecycleEvent.Error"/>.</summary>
    public Exception? Exception { get; }

    /// <summary>
    /// Gets or sets whether a user whose heartbeat timed out stays registered; only
    /// <see cref="LifecycleEvent.Disconnected"/> handlers set it.
    /// </summary>
    public bool KeepRegistered { get; set; }

    /// <summary>Gets the token that tells a handler the work it serves was abandoned.</summary>
    public CancellationToken CancellationToken { get; }
}
