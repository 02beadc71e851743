namespace Comety.Internal;

/// <summary>
/// A growable ring of events in sequence order: appended at the end, removed from the front,
/// read by index. Not thread-safe; its owner locks.
/// </summary>
internal sealed class EventRing
{
    private CometyEvent[] _items;
    private int _head;

    public EventRing(int capacity = 4) => _items = new CometyEvent[Math.Max(capacity, 1)];

    public int Count { get; private set; }

    public CometyEvent First => this[0];

    public CometyEvent Last => this[Count - 1];

    public CometyEvent this[int index] => _items[(_head + index) % _items.Length];

    public void Add(CometyEvent item)
    {
        if (Count == _items.Length)
        {
            Grow();
        }

        _items[(_head + Count) % _items.Length] = item;
        Count++;
    }

    public CometyEvent RemoveFirst()
    {
        var item = _items[_head];
        _items[_head] = null!;
        _head = (_head + 1) % _items.Length;
        Count--;
        return item;
    }

    /// <summary>Returns the index of the first event numbered <paramref name="sequence"/> or later, or <see cref="Count"/>.</summary>
    public int IndexOfFirstFrom(long sequence)
    {
        int low = 0, high = Count;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (this[mid].Sequence < sequence)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }

    /// <summary>Removes the events whose flag in <paramref name="marked"/> is set, keeping the order of the others.</summary>
    /// <returns>The removed events.</returns>
    public List<CometyEvent> RemoveMarked(ReadOnlySpan<bool> marked)
    {
        var removed = new List<CometyEvent>();
        var kept = 0;
        for (var i = 0; i < Count; i++)
        {
            var item = this[i];
            if (marked[i])
            {
                removed.Add(item);
            }
            else
            {
                _items[(_head + kept) % _items.Length] = item;
                kept++;
            }
        }

        for (var i = kept; i < Count; i++)
        {
            _items[(_head + i) % _items.Length] = null!;
        }

        Count = kept;
        return removed;
    }

    public CometyEvent[] ToArray()
    {
        var result = new CometyEvent[Count];
        for (var i = 0; i < Count; i++)
        {
            result[i] = this[i];
        }

        return result;
    }

    public void Clear()
    {
        Array.Clear(_items);
        _head = 0;
        Count = 0;
    }

    private void Grow()
    {
        var larger = new CometyEvent[_items.Length * 2];
        for (var i = 0; i < Count; i++)
        {
            larger[i] = this[i];
        }

        _items = larger;
        _head = 0;
    }
}
