namespace Comety.Internal;

/// <summary>
/// What a user's inbox must keep for its pages, without knowing the pages one by one.
/// </summary>
/// <remarks>
/// <para>
/// In general: the lowest position any poll stated in the current and the previous retention
/// window (one heartbeat timeout each, so together at least one timeout long), and the positions
/// of the polls being answered now. An event at or below that floor has been handed to every
/// page that polled lately; a page that stayed away longer may have lost it, and is then told to
/// resynchronise.
/// </para>
/// <para>
/// One page alone, the common case, is recognised by its chain: every poll of both windows
/// stated exactly the <c>lastId</c> of the answer before it, and no two polls overlapped. Two
/// pages break the chain (their waiting polls overlap, or one states a position another answer
/// moved past), so while only one page is seen the floor is simply its latest position and the
/// inbox does not hold a heartbeat timeout of events it already handed over. A page opened while
/// another polls alone is covered, until its first poll breaks the chain, by the position it was
/// rendered at (<see cref="CometyDispatcher.NotePageRendered"/>).
/// </para>
/// Guarded by the user's lock.
/// </remarks>
internal struct PagePositions
{
    private long _currentMinimum;
    private long _previousMinimum;
    private bool _currentBroken;
    private bool _previousBroken;
    private int _epoch;
    private bool _started;
    private long _chainNext;
    private long _latest;
    private long[]? _active;
    private int _activeCount;

    /// <summary>
    /// Records a poll's position in retention epoch <paramref name="epoch"/> and counts it as active
    /// until <see cref="EndPoll"/>. An <paramref name="unconfirmed"/> position (a stream's next read,
    /// from the last event it wrote, which its client may not have received) breaks the chain: what
    /// comes after it stays for the retention windows, as for several pages.
    /// </summary>
    public void BeginPoll(long position, int epoch, bool unconfirmed = false)
    {
        Record(position, epoch);
        if (unconfirmed || _activeCount > 0 || position != _chainNext)
        {
            _currentBroken = true;
        }

        _latest = position;
        _active ??= new long[2];
        if (_activeCount == _active.Length)
        {
            Array.Resize(ref _active, _active.Length * 2);
        }

        _active[_activeCount++] = position;
    }

    /// <summary>
    /// Ends an active poll begun with <paramref name="position"/>; <paramref name="answeredUpTo"/>
    /// is the <c>lastId</c> it answered with, or the position itself when the poll was abandoned:
    /// the position its page's next poll states if it is the one page.
    /// </summary>
    public void EndPoll(long position, long answeredUpTo)
    {
        for (var i = 0; i < _activeCount; i++)
        {
            if (_active![i] == position)
            {
                _active[i] = _active[--_activeCount];
                break;
            }
        }

        _chainNext = answeredUpTo;
    }

    /// <summary>Gets how many polls of the user are being answered.</summary>
    public readonly int ActiveCount => _activeCount;

    /// <summary>Returns the highest sequence number every recent page has handled; <see cref="long.MaxValue"/> when no page polled.</summary>
    public readonly long Floor()
    {
        if (!_started)
        {
            return long.MaxValue;
        }

        if (!_currentBroken && !_previousBroken && _activeCount <= 1)
        {
            return _latest;
        }

        var floor = Math.Min(_currentMinimum, _previousMinimum);
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
            _chainNext = position;
            return;
        }

        if (epoch != _epoch)
        {
            // The window before the previous one is forgotten; so is an epoch in which no page polled.
            var adjacent = epoch - _epoch == 1;
            _previousMinimum = adjacent ? _currentMinimum : long.MaxValue;
            _previousBroken = adjacent && _currentBroken;
            _currentMinimum = long.MaxValue;
            _currentBroken = false;
            _epoch = epoch;
        }

        _currentMinimum = Math.Min(_currentMinimum, position);
    }
}
