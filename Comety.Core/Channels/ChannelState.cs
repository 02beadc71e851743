namespace Comety.Internal;

/// <summary>A channel's subscribers. Guarded by locking the instance.</summary>
internal sealed class ChannelState(string name)
{
    public string Name { get; } = name;

    public HashSet<UserState> Subscribers { get; } = [];

    /// <summary>Set when the last subscriber left and the channel was dropped; a subscriber then looks it up again.</summary>
    public bool Removed { get; set; }
}
