namespace Comety.Internal;

/// <summary>A channel's subscribers. Guarded by locking the instance.</summary>
internal sealed class ChannelState
{
    // Hashed by the user's id, not by identity: an identity hash lives in the object's header,
    // where it would make every lock (user) take the runtime's slow path (a sync block).
    public HashSet<UserState> Subscribers { get; } = new(UserStateComparer.Instance);

    /// <summary>Set when the last subscriber left and the channel was dropped; a subscriber then looks it up again.</summary>
    public bool Removed { get; set; }
}
