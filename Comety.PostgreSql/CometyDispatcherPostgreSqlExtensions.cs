using Npgsql;

namespace Comety.PostgreSql;

/// <summary>Posting in the application's own PostgreSQL transaction.</summary>
public static class CometyDispatcherPostgreSqlExtensions
{
    /// <summary>
    /// Posts an event in the application's transaction: delivered (on every server) if and only if
    /// <paramref name="transaction"/> commits; a rollback leaves no trace of it. The transaction must be
    /// on the database of the dispatcher's <see cref="PostgreSqlEventLog"/>.
    /// </summary>
    /// <param name="dispatcher">A dispatcher whose log is a <see cref="PostgreSqlEventLog"/>.</param>
    /// <param name="newEvent">An event that has not been posted yet.</param>
    /// <param name="transaction">The application's open transaction.</param>
    /// <param name="cancellationToken">Cancels the append.</param>
    /// <returns>The event's sequence number once the transaction commits.</returns>
    /// <exception cref="InvalidOperationException">The dispatcher's log is not a <see cref="PostgreSqlEventLog"/>.</exception>
    /// <exception cref="EventLogUnavailableException">The database cannot be reached.</exception>
    /// <remarks>Other appenders wait from this call until the transaction ends (that is what keeps the numbers gap-free): keep it short.</remarks>
    public static ValueTask<long> PostAsync(this CometyDispatcher dispatcher, CometyEvent newEvent, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dispatcher);
        if (dispatcher.EventLog is not PostgreSqlEventLog log)
        {
            throw new InvalidOperationException($"Posting in a PostgreSQL transaction needs the dispatcher's log to be a PostgreSqlEventLog (services.AddCometyPostgreSql()); it is {dispatcher.EventLog.GetType().Name}.");
        }

        return log.AppendInTransactionAsync(newEvent, transaction, cancellationToken);
    }

    /// <summary>Posts an event to a channel's subscribers in the application's transaction; see <see cref="PostAsync"/>.</summary>
    /// <param name="dispatcher">A dispatcher whose log is a <see cref="PostgreSqlEventLog"/>.</param>
    /// <param name="transaction">The application's open transaction.</param>
    /// <param name="channel">The channel.</param>
    /// <param name="sender">What originated the event.</param>
    /// <param name="args">The event's named arguments; <c>event</c> names its type.</param>
    /// <param name="cancellationToken">Cancels the append.</param>
    /// <returns>The event's sequence number once the transaction commits.</returns>
    public static ValueTask<long> PostToChannelAsync(this CometyDispatcher dispatcher, NpgsqlTransaction transaction, string channel, object? sender, IReadOnlyDictionary<string, object?> args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        return dispatcher.PostAsync(new CometyEvent(sender, args, channel), transaction, cancellationToken);
    }

    /// <summary>Posts an event to every user in the application's transaction; see <see cref="PostAsync"/>.</summary>
    /// <param name="dispatcher">A dispatcher whose log is a <see cref="PostgreSqlEventLog"/>.</param>
    /// <param name="transaction">The application's open transaction.</param>
    /// <param name="sender">What originated the event.</param>
    /// <param name="args">The event's named arguments; <c>event</c> names its type.</param>
    /// <param name="cancellationToken">Cancels the append.</param>
    /// <returns>The event's sequence number once the transaction commits.</returns>
    public static ValueTask<long> BroadcastAsync(this CometyDispatcher dispatcher, NpgsqlTransaction transaction, object? sender, IReadOnlyDictionary<string, object?> args, CancellationToken cancellationToken = default) =>
        dispatcher.PostAsync(new CometyEvent(sender, args), transaction, cancellationToken);
}
