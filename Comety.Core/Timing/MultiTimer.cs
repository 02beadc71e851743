namespace Comety.Internal;

/// <summary>
/// One timer for many deadlines (the original Comety's <c>MultiTimer</c>): heartbeats and poll
/// timeouts are entries in a heap served by a single <see cref="ITimer"/> from the
/// <see cref="TimeProvider"/>, so that ten thousand waiting users cost no ten thousand timers.
/// </summary>
/// <remarks>
/// Callbacks run on the timer's thread, never on the thread that scheduled them, and must be
/// short; work that may block belongs on the thread pool. Entries are rescheduled lazily: an
/// entry pushed back to a later time keeps its place in the heap and is moved when that place
/// comes due, so a heartbeat reset on every poll costs no heap operation.
/// </remarks>
internal sealed class MultiTimer : IDisposable
{
    private const int CompactionThreshold = 1024;

    private readonly TimeProvider _timeProvider;
    private readonly Action<Exception>? _onCallbackError;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private readonly PriorityQueue<Slot, long> _heap = new();

    // Reused by every compaction: with ten thousand waiting polls a fresh list would be a
    // large-object allocation each time (the benchmark saw gen2 collections from it).
    private readonly List<(Slot, long)> _liveSlots = [];
    private long _armedFor = long.MaxValue;
    private int _staleSlots;
    private bool _disposed;

    public MultiTimer(TimeProvider timeProvider, Action<Exception>? onCallbackError = null)
    {
        _timeProvider = timeProvider;
        _onCallbackError = onCallbackError;
        _timer = timeProvider.CreateTimer(static s => ((MultiTimer)s!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Gets the number of entries the heap holds, stale ones included; for tests.</summary>
    internal int HeapSize
    {
        get
        {
            lock (_lock)
            {
                return _heap.Count;
            }
        }
    }

    /// <summary>Schedules (or reschedules) an entry to fire after <paramref name="dueIn"/> from now.</summary>
    public void Reset(TimerEntry entry, TimeSpan dueIn)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dueIn, TimeSpan.Zero);
        var due = AddSaturating(_timeProvider.GetTimestamp(), ToTimestampTicks(dueIn));
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            entry.Due = due;
            entry.Active = true;
            entry.Fired = false;
            if (due < entry.QueuedDue)
            {
                if (entry.QueuedDue != long.MaxValue)
                {
                    _staleSlots++;
                }

                Push(entry, due);
            }
        }
    }

    /// <summary>Stops an entry from firing; returns whether it was scheduled.</summary>
    public bool Cancel(TimerEntry entry)
    {
        lock (_lock)
        {
            if (!entry.Active)
            {
                return false;
            }

            entry.Active = false;
            if (entry.QueuedDue != long.MaxValue)
            {
                _staleSlots++;
                entry.QueuedDue = long.MaxValue;
                CompactIfMostlyStale();
            }

            return true;
        }
    }

    /// <summary>
    /// Stops an entry from firing but keeps its place in the heap, for an entry that is reset
    /// again soon (a heartbeat between polls, a user's poll deadline): a reset to a time at or
    /// after that place then costs no heap operation. The place is dropped when it comes due.
    /// Returns whether the entry was scheduled.
    /// </summary>
    public bool Suspend(TimerEntry entry)
    {
        lock (_lock)
        {
            var wasActive = entry.Active;
            entry.Active = false;
            return wasActive;
        }
    }

    /// <summary>Stops the timer and drops every pending entry.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            while (_heap.TryDequeue(out var slot, out var due))
            {
                if (slot.Entry.QueuedDue == due && slot.Entry.Active)
                {
                    slot.Entry.Active = false;
                    slot.Entry.QueuedDue = long.MaxValue;
                }
            }
        }

        _timer.Dispose();
    }

    private void Fire()
    {
        List<TimerEntry>? due = null;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _armedFor = long.MaxValue;
            var now = _timeProvider.GetTimestamp();
            while (_heap.TryPeek(out var slot, out var slotDue) && slotDue <= now)
            {
                _heap.Dequeue();
                var entry = slot.Entry;
                if (entry.QueuedDue != slotDue)
                {
                    _staleSlots--;
                    continue;
                }

                entry.QueuedDue = long.MaxValue;
                if (!entry.Active)
                {
                    continue;
                }

                if (entry.Due > now)
                {
                    Push(entry, entry.Due);
                    continue;
                }

                entry.Active = false;
                entry.Fired = true;
                (due ??= []).Add(entry);
            }

            Arm(now);
        }

        if (due is not null)
        {
            Invoke(due);
        }
    }

    private void Invoke(List<TimerEntry> entries)
    {
        foreach (var entry in entries)
        {
            try
            {
                entry.Callback(entry.State);
            }
            catch (Exception e)
            {
                _onCallbackError?.Invoke(e);
            }
        }
    }

    private void Push(TimerEntry entry, long due)
    {
        entry.QueuedDue = due;
        _heap.Enqueue(new Slot(entry), due);
        if (due < _armedFor)
        {
            Arm(_timeProvider.GetTimestamp());
        }
    }

    private void Arm(long now)
    {
        if (!_heap.TryPeek(out _, out var next))
        {
            if (_armedFor != long.MaxValue)
            {
                _armedFor = long.MaxValue;
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }

            return;
        }

        if (next >= _armedFor)
        {
            return;
        }

        _armedFor = next;
        var delay = next <= now ? TimeSpan.Zero : ToTimeSpan(next - now);
        _timer.Change(delay, Timeout.InfiniteTimeSpan);
    }

    // Cancelled poll timeouts leave slots behind until they come due; rebuild the heap when
    // they outnumber the live ones, so memory follows the live entries.
    private void CompactIfMostlyStale()
    {
        if (_staleSlots < CompactionThreshold || _staleSlots < _heap.Count / 2)
        {
            return;
        }

        foreach (var (slot, due) in _heap.UnorderedItems)
        {
            if (slot.Entry.QueuedDue == due)
            {
                _liveSlots.Add((slot, due));
            }
        }

        _heap.Clear();
        _heap.EnqueueRange(_liveSlots);
        _liveSlots.Clear();
        _staleSlots = 0;
    }

    private long ToTimestampTicks(TimeSpan span) =>
        (long)Math.Min(span.Ticks * (_timeProvider.TimestampFrequency / (double)TimeSpan.TicksPerSecond), long.MaxValue / 2);

    private TimeSpan ToTimeSpan(long timestampTicks)
    {
        var ticks = timestampTicks * ((double)TimeSpan.TicksPerSecond / _timeProvider.TimestampFrequency);
        // Round up so that the timer never fires before the deadline it serves.
        return TimeSpan.FromTicks((long)Math.Min(Math.Ceiling(ticks), TimeSpan.FromDays(30).Ticks));
    }

    private static long AddSaturating(long a, long b) => b > long.MaxValue - a ? long.MaxValue - 1 : a + b;

    // A heap slot points at its entry; a slot is live only while the entry's QueuedDue equals the slot's priority.
    private readonly record struct Slot(TimerEntry Entry);
}
