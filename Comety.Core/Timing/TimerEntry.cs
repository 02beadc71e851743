namespace Comety.Internal;

/// <summary>One deadline served by a <see cref="MultiTimer"/>; its fields are guarded by the timer's lock.</summary>
internal sealed class TimerEntry(Action<object?> callback, object? state)
{
    public Action<object?> Callback { get; } = callback;

    public object? State { get; } = state;

    // When the entry should fire.
    internal long Due;

    // The priority of the entry's live heap slot, or long.MaxValue when it has none.
    internal long QueuedDue = long.MaxValue;

    internal bool Active;

    // Set when the entry fired; a poll reads it to tell its timeout from other wake-ups.
    internal volatile bool Fired;
}
