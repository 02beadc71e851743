using System.Numerics;

namespace Comety.Internal;

/// <summary>
/// A growable ring of events in sequence order: appended at the end, removed from the front,
/// read by index. Not thread-safe; its owner locks.
/// </summary>
internal sealed class EventRing
{
    private CometyEvent[] _items;
    private int _head;

    public EventRing(int capacity = 4) => _items = new CometyEvent[(int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, 1))];

    public int Count { get; private set; }

    public CometyEvent First => this[0];

    // The capacity is a power of two, so the index wraps with a mask rather than a division.
    public CometyEvent this[int index] => _items[(_head + index) & (_items.Length - 1)];

    public void Add(CometyEvent item)
    {
        if (Count == _items.Length)
        {
            Grow();
        }

        _items[(_head + Count) & (_items.Length - 1)] = item;
        Count++;
    }

    public CometyEvent RemoveFirst()
    {
        var item = _items[_head];
        _items[_head] = null!;
        _head = (_head + 1) & (_items.Length - 1);
        Count--;
        return item;
    }

    /// <summary>Returns the index of the first event numbered <paramref name="sequence"/> or later, or <see cref="Count"/>.</summary>
    /// <remarks>
    /// A page's position is most often near the end (it asks for what came since its last poll),
    /// so the search looks back from the end a few steps before it bisects: in a full inbox a
    /// bisection would touch a dozen events far apart in memory.
    /// </remarks>
    public int IndexOfFirstFrom(long sequence)
    {
        int low = 0, high = Count;
        for (var step = 0; step < 8 && high > low; step++)
        {
            if (this[high - 1].Sequence < sequence)
            {
                return high;
            }

            high--;
        }

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
