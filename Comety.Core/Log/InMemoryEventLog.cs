using Comety.Internal;

namespace Comety;

/// <summary>
/// The default <see cref="IEventLog"/>: events in the memory of one process, numbered as they
/// are appended and dropped when trimmed.
/// </summary>
public sealed class InMemoryEventLog : IEventLog
{
    private readonly Lock _lock = new();
    private readonly EventRing _events = new(64);
    private long _lastSequence;
    private TaskCompletionSource<long>? _newer;

    /// <inheritdoc/>
    public long LastSequence => Volatile.Read(ref _lastSequence);

    /// <summary>Gets how many events the log holds; for tests, which see a trimmed log by it.</summary>
    internal int Count
    {
        get
        {
            lock (_lock)
            {
                return _events.Count;
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<CometyEvent> AppendAsync(CometyEvent newEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(newEvent);
        TaskCompletionSource<long>? newer;
        long sequence;
        lock (_lock)
        {
            sequence = _lastSequence + 1;
            newEvent.AssignSequence(sequence);
            _events.Add(newEvent);
            Volatile.Write(ref _lastSequence, sequence);
            newer = _newer;
            _newer = null;
        }

        newer?.TrySetResult(sequence);
        return ValueTask.FromResult(newEvent);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<CometyEvent>> ReadAsync(long fromSequence, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        lock (_lock)
        {
            if (_events.Count == 0 || maxCount == 0)
            {
                return ValueTask.FromResult<IReadOnlyList<CometyEvent>>([]);
            }

            var start = _events.IndexOfFirstFrom(fromSequence);
            var result = new CometyEvent[Math.Min(maxCount, _events.Count - start)];
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = _events[start + i];
            }

            return ValueTask.FromResult<IReadOnlyList<CometyEvent>>(result);
        }
    }

    /// <inheritdoc/>
    public ValueTask<long> WaitForNewerAsync(long afterSequence, CancellationToken cancellationToken = default)
    {
        Task<long> wait;
        lock (_lock)
        {
            if (_lastSequence > afterSequence)
            {
                return ValueTask.FromResult(_lastSequence);
            }

            _newer ??= new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            wait = _newer.Task;
        }

        return new ValueTask<long>(wait.WaitAsync(cancellationToken));
    }

    /// <inheritdoc/>
    public ValueTask TrimAsync(long beforeSequence, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            while (_events.Count > 0 && _events.First.Sequence < beforeSequence)
            {
                _events.RemoveFirst();
            }
        }

        return ValueTask.CompletedTask;
    }
}
