namespace Comety.Internal;

/// <summary>
/// What a user's inbox must keep for its pages, without knowing the pages one by one: the lowest
/// position any poll stated in the current and the previous retention window (the dispatcher's
/// retention epochs, one heartbeat timeout each, so together at least one timeout long), and the
/// positions of the polls being answered now. An event at or below the
/// floor has been handed to every page that polled recently; a page that stayed away longer
/// may have lost it, and is then told to resynchronise. Guarded by the user's lock.
/// </summary>
internal struct PagePositions
{
    private long _currentMinimum;
    private long _previousMinimum;
    private int _epoch;
    private bool _started;
    private long[]? _active;
    private int _activeCount;

    /// <summary>Records a poll's position in retention epoch <paramref name="epoch"/> and counts it as active until <see cref="EndPoll"/>.</summary>
    public void BeginPoll(long position, int epoch)
    {
        Record(position, epoch);
        _active ??= new long[2];
        if (_activeCount == _active.Length)
        {
            Array.Resize(ref _active, _active.Length * 2);
        }

        _active[_activeCount++] = position;
    }

    /// <summary>Ends an active poll begun with <paramref name="position"/>.</summary>
    public void EndPoll(long position)
    {
        for (var i = 0; i < _activeCount; i++)
        {
            if (_active![i] == position)
            {
                _active[i] = _active[--_activeCount];
                return;
            }
        }
    }

    /// <summary>Gets how many polls of the user are being answered.</summary>
    public readonly int ActiveCount => _activeCount;

    /// <summary>Returns the highest sequence number every recent page has handled; <see cref="long.MaxValue"/> when no page polled.</summary>
    public readonly long Floor()
    {
        var floor = _started ? Math.Min(_currentMinimum, _previousMinimum) : long.MaxValue;
        for (var i = 0; i < _activeCount; i++)
        {
            floor = Math.Min(floor, _active![i]);
        }

        return floor;
    }

    private void Record(long position, int epoch)
    {
        if (!_started)
        {
            _started = true;
            _epoch = epoch;
            _currentMinimum = position;
            _previousMinimum = long.MaxValue;
            return;
        }

        if (epoch != _epoch)
        {
            // The window before the previous one is forgotten; so is an epoch in which no page polled.
            _previousMinimum = epoch - _epoch == 1 ? _currentMinimum : long.MaxValue;
            _currentMinimum = long.MaxValue;
            _epoch = epoch;
        }

        _currentMinimum = Math.Min(_currentMinimum, position);
    }
}
