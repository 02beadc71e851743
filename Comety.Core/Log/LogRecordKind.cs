namespace Comety;

/// <summary>
/// What a record of a dispatcher's log is: an event for users, or, in a log that several servers
/// share (<see cref="ISharedEventLog"/>), a change of who receives events, ordered with the events
/// so that every server agrees, at each sequence number, on each event's recipients.
/// </summary>
public enum LogRecordKind
{
    /// <summary>An event posted for users; the only kind an <see cref="InMemoryEventLog"/> holds.</summary>
    Event = 0,

    /// <summary>A user was registered; the record's <c>userId</c> argument names it.</summary>
    UserRegistered = 1,

    /// <summary>A user was unregistered (or timed out); the record's <c>userId</c> argument names it.</summary>
    UserUnregistered = 2,

    /// <summary>A user subscribed to the record's <see cref="CometyEvent.Channel"/>.</summary>
    Subscribed = 3,

    /// <summary>A user unsubscribed from the record's <see cref="CometyEvent.Channel"/>.</summary>
    Unsubscribed = 4,
}
