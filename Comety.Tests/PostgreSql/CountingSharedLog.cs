namespace Comety.Tests.PostgreSql;

/// <summary>A shared log that counts the presence rows a dispatcher reports, can hold its load back, and passes everything on.</summary>
internal sealed class CountingSharedLog(ISharedEventLog inner) : ISharedEventLog
{
    private int _reportedRows;

    public int ReportedRows => Volatile.Read(ref _reportedRows);

    public long LastSequence => inner.LastSequence;

    public ValueTask<CometyEvent> AppendAsync(CometyEvent newEvent, CancellationToken cancellationToken = default) => inner.AppendAsync(newEvent, cancellationToken);

    public ValueTask<IReadOnlyList<CometyEvent>> ReadAsync(long fromSequence, int maxCount, CancellationToken cancellationToken = default) => inner.ReadAsync(fromSequence, maxCount, cancellationToken);

    public ValueTask<long> WaitForNewerAsync(long afterSequence, CancellationToken cancellationToken = default) => inner.WaitForNewerAsync(afterSequence, cancellationToken);

    public ValueTask TrimAsync(long beforeSequence, CancellationToken cancellationToken = default) => inner.TrimAsync(beforeSequence, cancellationToken);

    /// <summary>Holds every load until it completes; none when null.</summary>
    public TaskCompletionSource? LoadGate { get; set; }

    public async ValueTask<SharedLogSnapshot> LoadAsync(CancellationToken cancellationToken = default)
    {
        if (LoadGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        return await inner.LoadAsync(cancellationToken);
    }

    public ValueTask<(long LastSequence, string Epoch)> ReadLastSequenceAsync(CancellationToken cancellationToken = default) => inner.ReadLastSequenceAsync(cancellationToken);

    public ValueTask ReportPresenceAsync(IReadOnlyList<(string UserId, DateTimeOffset Deadline)> deadlines, CancellationToken cancellationToken = default)
    {
        Interlocked.Add(ref _reportedRows, deadlines.Count);
        return inner.ReportPresenceAsync(deadlines, cancellationToken);
    }

    public ValueTask<IReadOnlyList<string>> TakeExpiredUsersAsync(DateTimeOffset now, TimeSpan claimFor, CancellationToken cancellationToken = default) => inner.TakeExpiredUsersAsync(now, claimFor, cancellationToken);

    public ValueTask<bool> TryLeadAsync(CancellationToken cancellationToken = default) => inner.TryLeadAsync(cancellationToken);

    public ValueTask<long> AdvancePastAsync(long sequence, CancellationToken cancellationToken = default) => inner.AdvancePastAsync(sequence, cancellationToken);
}
