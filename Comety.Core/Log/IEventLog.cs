namespace Comety;

/// <summary>
/// The ordered log a <see cref="CometyDispatcher"/> appends events to and delivers them from. The
/// in-memory <see cref="InMemoryEventLog"/> is the default; a shared, durable implementation
/// lets several servers serve the same users.
/// </summary>
/// <remarks>
/// Sequence numbers start at 1 and increase by one per appended event. A reader that has seen
/// every event up to <c>n</c> reads from <c>n + 1</c> and never misses one: an implementation
/// makes an event readable only once every event before it is.
/// </remarks>
public interface IEventLog
{
    /// <summary>Gets the highest sequence number issued so far, or 0 before the first append.</summary>
    long LastSequence { get; }

    /// <summary>Appends an event that has not been posted yet and numbers it.</summary>
    /// <param name="newEvent">The event; its <see cref="CometyEvent.Sequence"/> is 0.</param>
    /// <param name="cancellationToken">Cancels the append.</param>
    /// <returns>The numbered event: the same instance or a copy made with <see cref="CometyEvent.WithSequence"/>.</returns>
    ValueTask<CometyEvent> AppendAsync(CometyEvent newEvent, CancellationToken cancellationToken = default);

    /// <summary>Reads events in sequence order, starting at <paramref name="fromSequence"/>.</summary>
    /// <param name="fromSequence">The first sequence number wanted.</param>
    /// <param name="maxCount">How many events to read at most.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The events from <paramref name="fromSequence"/> on that are still in the log, at most <paramref name="maxCount"/>.</returns>
    ValueTask<IReadOnlyList<CometyEvent>> ReadAsync(long fromSequence, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>Waits until an event newer than <paramref name="afterSequence"/> can be read.</summary>
    /// <param name="afterSequence">The last sequence number the caller has read.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>The highest sequence number that can be read now.</returns>
    ValueTask<long> WaitForNewerAsync(long afterSequence, CancellationToken cancellationToken = default);

    /// <summary>Discards the events numbered below <paramref name="beforeSequence"/>: every user has confirmed them.</summary>
    /// <param name="beforeSequence">The first sequence number to keep.</param>
    /// <param name="cancellationToken">Cancels the trim.</param>
    /// <returns>A task that completes when the events are gone.</returns>
    ValueTask TrimAsync(long beforeSequence, CancellationToken cancellationToken = default);
}
