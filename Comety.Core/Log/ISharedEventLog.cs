namespace Comety;

/// <summary>
/// An <see cref="IEventLog"/> that several dispatchers, one per application server, share: any
/// server answers any poll of any user. Registrations and subscriptions are records of the log
/// (<see cref="LogRecordKind"/>), ordered with the events; each dispatcher builds the users' windows
/// from the log when it starts (<see cref="CometyDispatcher.StartAsync"/>) and follows it from then on.
/// </summary>
/// <remarks>
/// <para>
/// An implementation makes a record readable only once every record before it is, on every server
/// (<see cref="IEventLog.ReadAsync"/> never skips a number), and keeps the membership of the records
/// it trims: <see cref="LoadAsync"/> returns the users and their channels as of the last trimmed record.
/// </para>
/// <para>
/// Members other than the <see cref="IEventLog"/> ones may throw <see cref="EventLogUnavailableException"/>
/// when the store cannot be reached; the dispatcher retries them.
/// </para>
/// </remarks>
public interface ISharedEventLog : IEventLog
{
    /// <summary>
    /// Reads the store's identity and the membership below its records: the users registered and
    /// their channels as of <see cref="SharedLogSnapshot.Sequence"/>; the records after it are read
    /// with <see cref="IEventLog.ReadAsync"/>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The snapshot.</returns>
    ValueTask<SharedLogSnapshot> LoadAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads the highest sequence number the store holds now, from the store itself.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The highest sequence number committed so far, and the store's epoch.</returns>
    ValueTask<(long LastSequence, string Epoch)> ReadLastSequenceAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Records until when users were seen by this server: a user whose latest deadline, over every
    /// server, has passed has stopped polling everywhere.
    /// </summary>
    /// <param name="deadlines">Each user's deadline as seen here.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the deadlines are stored.</returns>
    ValueTask ReportPresenceAsync(IReadOnlyList<(string UserId, DateTimeOffset Deadline)> deadlines, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the users whose deadline has passed at <paramref name="now"/> and moves their deadline to
    /// <paramref name="now"/> plus <paramref name="claimFor"/>: each is returned once in that time, to one
    /// caller, which then decides its timeout; a leader that fails before it has leaves the user to the
    /// next one. Appending a user's <see cref="LogRecordKind.UserUnregistered"/> record forgets its
    /// deadline. Only the leader (<see cref="TryLeadAsync"/>) calls it.
    /// </summary>
    /// <param name="now">The current time.</param>
    /// <param name="claimFor">How long the users returned are not returned again.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The users whose deadline passed.</returns>
    ValueTask<IReadOnlyList<string>> TakeExpiredUsersAsync(DateTimeOffset now, TimeSpan claimFor, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes or keeps the lease of the cluster's leader, which decides heartbeat timeouts and trims
    /// the log: at most one server holds it at a time.
    /// </summary>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>Whether this server leads now.</returns>
    ValueTask<bool> TryLeadAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes the store's last sequence number at least <paramref name="sequence"/>, as if that many had
    /// been issued, so that a store that was wiped or restored from an older backup never issues a
    /// number that pages saw before.
    /// </summary>
    /// <param name="sequence">The lowest last sequence number wanted: above every number this server has seen.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The store's highest sequence number afterwards.</returns>
    ValueTask<long> AdvancePastAsync(long sequence, CancellationToken cancellationToken = default);
}
