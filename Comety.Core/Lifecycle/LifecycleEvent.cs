namespace Comety;

/// <summary>The stages of a user's life with a dispatcher that handlers can be bound to.</summary>
public enum LifecycleEvent
{
    /// <summary>A user was registered. Handlers of this event take no channel pattern.</summary>
    Connected,

    /// <summary>A page sent data to the server.</summary>
    Message,

    /// <summary>A user started receiving a channel's events.</summary>
    Subscribed,

    /// <summary>A user stopped receiving a channel's events, on request or on its way out.</summary>
    Unsubscribed,

    /// <summary>A handler or a request failed.</summary>
    Error,

    /// <summary>A user's heartbeat timed out: it stopped polling. A handler can keep it registered.</summary>
    Disconnected,

    /// <summary>A user is leaving, for any reason; its subscriptions are still there for pattern matching.</summary>
    Finished,
}
