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
    public static ValueTask<long> PostAsync(this CometyDispatcher dispatcher, CometyEvent newEvent, NpgsqlTransaction transaction, CancellationToken cancellationToken = default) =>
        LogOf(dispatcher, "Posting in a PostgreSQL transaction").AppendInTransactionAsync(newEvent, transaction, cancellationToken);

    /// <summary>
    /// Reads the position a page starts polling from, in the transaction that reads the page's data
    /// (for <c>&lt;comety-script resume-after="…"&gt;</c>), and waits until this server has read the log
    /// up to it, so that the page can be rendered here with it.
    /// </summary>
    /// <param name="dispatcher">A dispatcher whose log is a <see cref="PostgreSqlEventLog"/>.</param>
    /// <param name="transaction">The transaction that reads the page's data; <c>REPEATABLE READ</c> when it reads with more than one statement.</param>
    /// <param name="cancellationToken">Cancels the read and the wait.</param>
    /// <returns>The position: the page gets exactly the events its data does not show yet.</returns>
    /// <exception cref="InvalidOperationException">The dispatcher's log is not a <see cref="PostgreSqlEventLog"/>.</exception>
    /// <exception cref="EventLogUnavailableException">The database cannot be reached.</exception>
    public static async ValueTask<long> ReadPositionAsync(this CometyDispatcher dispatcher, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
    {
        var position = await LogOf(dispatcher, "Reading a position in a PostgreSQL transaction").ReadLastSequenceInTransactionAsync(transaction, cancellationToken);
        await dispatcher.CatchUpAsync(position, cancellationToken);
        return position;
    }

    private static PostgreSqlEventLog LogOf(CometyDispatcher dispatcher, string what)
    {
        ArgumentNullException.ThrowIfNull(dispatcher);
        return dispatcher.EventLog as PostgreSqlEventLog
            ?? throw new InvalidOperationException($"{what} needs the dispatcher's log to be a PostgreSqlEventLog (services.AddCometyPostgreSql()); it is {dispatcher.EventLog.GetType().Name}.");
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
