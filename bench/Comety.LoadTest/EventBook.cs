using System.Diagnostics;

namespace Comety.LoadTest;

/// <summary>
/// What every simulated client of a fleet received: for each client and event index, when it
/// arrived and how long after the server stamped it; and how many arrived twice or out of order.
/// Each client records from one receive loop at a time, so a client's row needs no lock.
/// </summary>
internal sealed class EventBook
{
    private readonly long[][] _latency;
    private readonly int[] _lastIndex;
    private long _received;
    private long _duplicates;
    private long _outOfOrder;
    private long _unexpected;
    private long _lastReceivedAt;

    public EventBook(int clients, int maxEvents)
    {
        _latency = new long[clients][];
        _lastIndex = new int[clients];
        for (var c = 0; c < clients; c++)
        {
            _latency[c] = new long[maxEvents];
            _lastIndex[c] = -1;
        }
    }

    public int Clients => _latency.Length;

    public int MaxEvents => _latency.Length == 0 ? 0 : _latency[0].Length;

    /// <summary>Events received so far (first receipts only).</summary>
    public long Received => Interlocked.Read(ref _received);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long OutOfOrder => Interlocked.Read(ref _outOfOrder);

    /// <summary>Events with an index no scenario posted, or a malformed stamp.</summary>
    public long Unexpected => Interlocked.Read(ref _unexpected);

    /// <summary>The <see cref="Stopwatch"/> timestamp of the latest receipt.</summary>
    public long LastReceivedAt => Interlocked.Read(ref _lastReceivedAt);

    /// <summary>
    /// Records that <paramref name="client"/> received tick <paramref name="index"/>, stamped
    /// <paramref name="sentAt"/> by the server, at <paramref name="receivedAt"/> (both <see cref="Stopwatch"/> timestamps).
    /// </summary>
    public void Record(int client, int index, long sentAt, long receivedAt)
    {
        var row = _latency[client];
        if ((uint)index >= (uint)row.Length || sentAt <= 0 || receivedAt < sentAt)
        {
            Interlocked.Increment(ref _unexpected);
            return;
        }

        if (row[index] != 0)
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }

        if (index < _lastIndex[client])
        {
            Interlocked.Increment(ref _outOfOrder);
        }

        _lastIndex[client] = index;
        row[index] = receivedAt - sentAt;
        Interlocked.Increment(ref _received);
        long last;
        while ((last = Interlocked.Read(ref _lastReceivedAt)) < receivedAt
            && Interlocked.CompareExchange(ref _lastReceivedAt, receivedAt, last) != last)
        {
        }
    }

    /// <summary>Whether the client received the event.</summary>
    public bool Has(int client, int index) => Volatile.Read(ref _latency[client][index]) != 0;

    /// <summary>The latency of a received event, in <see cref="Stopwatch"/> ticks.</summary>
    public long Latency(int client, int index) => Volatile.Read(ref _latency[client][index]);
}
