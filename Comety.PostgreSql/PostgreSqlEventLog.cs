using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Comety.PostgreSql;

/// <summary>
/// A durable <see cref="ISharedEventLog"/> in PostgreSQL that several application servers share:
/// dense, gap-free sequence numbers under concurrent appenders on every server, posts batched into
/// one transaction, a notification as the doorbell of new records (with a fallback read), an epoch
/// that tells a wiped or restored store, and a leader's lease (an advisory lock).
/// </summary>
/// <remarks>
/// <para>
/// Order by construction: an append updates the log's counter row and inserts its records in one
/// statement, in one transaction. The counter row's lock makes appenders wait for one another until
/// commit, so numbers are taken in commit order and a reader never sees record 11 before record 10
/// (a sequence alone would number at insert and show at commit, in any order).
/// </para>
/// </remarks>
public sealed partial class PostgreSqlEventLog : ISharedEventLog, IAsyncDisposable
{
    private readonly PostgreSqlEventLogOptions _options;
    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly string _schema;
    private readonly string _name;
    private readonly string _notifyChannel;
    private readonly long _leaderLockKey;
    private readonly Channel<PendingAppend> _appends = Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _initialized = new(1, 1);
    private readonly Lock _lock = new();
    private readonly Task _appender;
    private Task? _listener;
    private bool _schemaReady;
    private long _knownLast;
    private TaskCompletionSource _doorbell = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private NpgsqlConnection? _leaderConnection;
    private readonly SemaphoreSlim _leaderGate = new(1, 1);
    private int _disposed;

    /// <summary>Creates a log on a database.</summary>
    /// <param name="options">The settings; <see cref="PostgreSqlEventLogOptions.ConnectionString"/> is required.</param>
    /// <param name="logger">Where the log logs; nowhere when <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">A setting is invalid; the message says which.</exception>
    public PostgreSqlEventLog(PostgreSqlEventLogOptions options, ILogger<PostgreSqlEventLog>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.FindProblems() is [var first, ..])
        {
            throw new ArgumentException(first, nameof(options));
        }

        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _schema = options.Schema;
        _name = options.LogName;
        _notifyChannel = $"comety_{_schema}_{_name}";
        _leaderLockKey = StableKey($"comety-leader:{_schema}:{_name}");
        var builder = new NpgsqlDataSourceBuilder(options.ConnectionString);
        _dataSource = builder.Build();
        _appender = Task.Run(() => RunAppenderAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>Gets the data source the log connects with (its connection string is the options').</summary>
    public NpgsqlDataSource DataSource => _dataSource;

    /// <summary>Gets the log's name.</summary>
    public string Name => _name;

    /// <inheritdoc/>
    public long LastSequence => Volatile.Read(ref _knownLast);

    /// <summary>
    /// Creates (or upgrades) the schema when <see cref="PostgreSqlEventLogOptions.CreateSchema"/> is set, and
    /// this log's counter row, and starts listening for new records. Every other member calls it first.
    /// </summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>A task that completes when the log is ready.</returns>
    /// <exception cref="EventLogUnavailableException">The database cannot be reached.</exception>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _schemaReady))
        {
            return;
        }

        await _initialized.WaitAsync(cancellationToken);
        try
        {
            if (_schemaReady)
            {
                return;
            }

            await GuardAsync(async () =>
            {
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
                if (_options.CreateSchema)
                {
                    await PostgreSqlSchema.EnsureAsync(connection, _schema, cancellationToken);
                }

                await EnsureLogRowAsync(connection, cancellationToken);
            }, "create its schema");
            _schemaReady = true;
            _listener ??= Task.Run(() => ListenAsync(_stopping.Token), CancellationToken.None);
        }
        finally
        {
            _initialized.Release();
        }
    }

    private async Task EnsureLogRowAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // Looked for first: an insert that meets the row would wait for any appender's transaction
        // holding it (the application's own, say) to end.
        await using (var exists = new NpgsqlCommand($"SELECT 1 FROM {_schema}.logs WHERE name = $1", connection))
        {
            exists.Parameters.Add(new NpgsqlParameter { Value = _name });
            if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
            {
                return;
            }
        }

        await using var command = new NpgsqlCommand($"INSERT INTO {_schema}.logs (name, epoch) VALUES ($1, gen_random_uuid()) ON CONFLICT (name) DO NOTHING", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = _name });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask<CometyEvent> AppendAsync(CometyEvent newEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(newEvent);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await InitializeAsync(cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();

        // Posts that come together are appended together: one transaction, one round trip.
        var pending = new PendingAppend(newEvent, newEvent.ToLogRecord());
        await _appends.Writer.WriteAsync(pending, CancellationToken.None);
        var sequence = await pending.Done.Task;
        return newEvent.WithSequence(sequence);
    }

    /// <summary>
    /// Appends an event in the application's own transaction: it is in the log, and delivered, if and
    /// only if that transaction commits. The counter row stays locked until then, and other appenders
    /// wait: keep the transaction short.
    /// </summary>
    /// <param name="newEvent">An event that has not been posted yet.</param>
    /// <param name="transaction">An open transaction on this log's database.</param>
    /// <param name="cancellationToken">Cancels the append.</param>
    /// <returns>The sequence number the event will have once the transaction commits.</returns>
    /// <exception cref="EventLogUnavailableException">The database cannot be reached.</exception>
    public async ValueTask<long> AppendInTransactionAsync(CometyEvent newEvent, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(newEvent);
        ArgumentNullException.ThrowIfNull(transaction);
        if (newEvent.Sequence != 0)
        {
            throw new InvalidOperationException($"The event was already posted as #{newEvent.Sequence}.");
        }

        await InitializeAsync(cancellationToken);
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction is no longer open.");
        return await GuardAsync(
            () => AppendBatchAsync(connection, transaction, [newEvent.ToLogRecord()], [newEvent], cancellationToken),
            "append an event in the application's transaction");
    }

    /// <summary>
    /// Reads the log's last sequence number in the application's transaction: read with the data a
    /// page shows, in one <c>REPEATABLE READ</c> transaction (or one statement), it is exactly the
    /// position from which the page gets the events its data does not show yet (appends commit in
    /// sequence order).
    /// </summary>
    /// <param name="transaction">The application's open transaction on this log's database.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The last sequence number the transaction's snapshot sees.</returns>
    /// <exception cref="EventLogUnavailableException">The database cannot be reached.</exception>
    public async ValueTask<long> ReadLastSequenceInTransactionAsync(NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        await InitializeAsync(cancellationToken);
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction is no longer open.");
        return await GuardAsync(async () =>
        {
            await using var command = new NpgsqlCommand($"SELECT last_sequence FROM {_schema}.logs WHERE name = $1", connection, transaction);
            command.Parameters.Add(new NpgsqlParameter { Value = _name });
            return (long)(await command.ExecuteScalarAsync(cancellationToken) ?? 0L);
        }, "read its last sequence number in the application's transaction");
    }

    private async Task RunAppenderAsync(CancellationToken cancellationToken)
    {
        var reader = _appends.Reader;
        var batch = new List<PendingAppend>();
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken))
            {
                batch.Clear();
                while (batch.Count < _options.MaxAppendBatch && reader.TryRead(out var next))
                {
                    batch.Add(next);
                }

                try
                {
                    var last = await GuardAsync(async () =>
                    {
                        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
                        return await AppendBatchAsync(connection, null, [.. batch.Select(static p => p.Record)], [.. batch.Select(static p => p.Event)], cancellationToken);
                    }, "append events");
                    var first = last - batch.Count + 1;
                    NoteKnown(last);
                    for (var i = 0; i < batch.Count; i++)
                    {
                        batch[i].Done.TrySetResult(first + i);
                    }
                }
                catch (Exception e)
                {
                    foreach (var pending in batch)
                    {
                        pending.Done.TrySetException(e);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        while (reader.TryRead(out var left))
        {
            left.Done.TrySetException(new ObjectDisposedException(nameof(PostgreSqlEventLog)));
        }
    }

    // One statement: take the numbers on the counter row (its lock holds until commit), insert the
    // records with them, ring the doorbell (delivered at commit, and only then).
    private async Task<long> AppendBatchAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, byte[][] records, CometyEvent[] events, CancellationToken cancellationToken)
    {
        var kinds = new short[events.Length];
        var users = new string?[events.Length];
        var channels = new string?[events.Length];
        var texts = new string[events.Length];
        for (var i = 0; i < events.Length; i++)
        {
            kinds[i] = (short)events[i].Kind;
            users[i] = events[i].Kind == LogRecordKind.Event ? null : events[i].Args.TryGetValue("userId", out var id) ? id as string : null;
            channels[i] = events[i].Channel;
            texts[i] = Encoding.UTF8.GetString(records[i]);
        }

        await using var command = new NpgsqlCommand(
            $"""
            WITH numbered AS (
                UPDATE {_schema}.logs SET last_sequence = last_sequence + cardinality($2::smallint[])
                WHERE name = $1 RETURNING last_sequence),
            inserted AS (
                INSERT INTO {_schema}.records (log, sequence, kind, user_id, channel, record)
                SELECT $1, numbered.last_sequence - cardinality($2::smallint[]) + r.ord, r.kind, r.user_id, r.channel, r.record
                FROM numbered, unnest($2::smallint[], $3::text[], $4::text[], $5::json[]) WITH ORDINALITY AS r(kind, user_id, channel, record, ord)
                RETURNING 1),
            forgotten AS (
                DELETE FROM {_schema}.presence WHERE log = $1
                AND user_id IN (SELECT r.user_id FROM unnest($2::smallint[], $3::text[]) AS r(kind, user_id) WHERE r.kind = 2)
                RETURNING 1)
            SELECT numbered.last_sequence, pg_notify($6, numbered.last_sequence::text), (SELECT count(*) FROM inserted), (SELECT count(*) FROM forgotten) FROM numbered
            """,
            connection,
            transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = _name });
        command.Parameters.Add(new NpgsqlParameter { Value = kinds });
        command.Parameters.Add(new NpgsqlParameter { Value = users, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = channels, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = texts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Json });
        command.Parameters.Add(new NpgsqlParameter { Value = _notifyChannel });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            // The counter row is gone: the store was wiped under a running server.
            await reader.DisposeAsync();
            await EnsureLogRowAsync(connection, cancellationToken);
            throw new EventLogUnavailableException($"Comety's log '{_name}' had no counter row in the database (the store was wiped?); it was created again: try again.");
        }

        return reader.GetInt64(0);
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<CometyEvent>> ReadAsync(long fromSequence, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        if (maxCount == 0)
        {
            return [];
        }

        await InitializeAsync(cancellationToken);
        return await GuardAsync(async () =>
        {
            await using var command = _dataSource.CreateCommand($"SELECT sequence, record::text FROM {_schema}.records WHERE log = $1 AND sequence >= $2 ORDER BY sequence LIMIT $3");
            command.Parameters.Add(new NpgsqlParameter { Value = _name });
            command.Parameters.Add(new NpgsqlParameter { Value = fromSequence });
            command.Parameters.Add(new NpgsqlParameter { Value = maxCount });
            var events = new List<CometyEvent>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var sequence = reader.GetInt64(0);
                events.Add(CometyEvent.FromLogRecord(Encoding.UTF8.GetBytes(reader.GetString(1)), sequence));
            }

            if (events.Count > 0)
            {
                NoteKnown(events[^1].Sequence);
            }

            return (IReadOnlyList<CometyEvent>)events;
        }, "read events");
    }

    /// <inheritdoc/>
    public async ValueTask<long> WaitForNewerAsync(long afterSequence, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken);
        Task doorbell;
        lock (_lock)
        {
            if (_knownLast > afterSequence)
            {
                return _knownLast;
            }

            doorbell = _doorbell.Task;
        }

        // The notification is a doorbell only: without it, the caller reads after the fallback interval.
        await Task.WhenAny(doorbell, Task.Delay(_options.FallbackReadInterval, cancellationToken));
        cancellationToken.ThrowIfCancellationRequested();
        return LastSequence;
    }

    /// <inheritdoc/>
    public async ValueTask<(long LastSequence, string Epoch)> ReadLastSequenceAsync(CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken);
        return await GuardAsync(async () =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            for (var attempt = 0; ; attempt++)
            {
                await using (var command = new NpgsqlCommand($"SELECT last_sequence, epoch::text FROM {_schema}.logs WHERE name = $1", connection))
                {
                    command.Parameters.Add(new NpgsqlParameter { Value = _name });
                    await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                    if (await reader.ReadAsync(cancellationToken))
                    {
                        var last = reader.GetInt64(0);
                        NoteKnown(last);
                        return (last, reader.GetString(1));
                    }
                }

                if (attempt > 0)
                {
                    throw new EventLogUnavailableException($"Comety's log '{_name}' has no counter row.");
                }

                // A store that was wiped: the log starts again, under a new epoch.
                await EnsureLogRowAsync(connection, cancellationToken);
            }
        }, "read its last sequence number");
    }

    /// <inheritdoc/>
    public async ValueTask<SharedLogSnapshot> LoadAsync(CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken);
        return await GuardAsync(async () =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
            string epoch;
            long trimmed;
            await using (var command = new NpgsqlCommand($"SELECT epoch::text, trimmed_through FROM {_schema}.logs WHERE name = $1", connection, transaction))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = _name });
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                if (!await reader.ReadAsync(cancellationToken))
                {
                    throw new EventLogUnavailableException($"Comety's log '{_name}' has no counter row.");
                }

                epoch = reader.GetString(0);
                trimmed = reader.GetInt64(1);
            }

            var users = new Dictionary<string, (long RegisteredAt, List<string> Channels)>(StringComparer.Ordinal);
            await using (var command = new NpgsqlCommand($"SELECT user_id, registered_at FROM {_schema}.users WHERE log = $1", connection, transaction))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = _name });
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    users[reader.GetString(0)] = (reader.GetInt64(1), []);
                }
            }

            await using (var command = new NpgsqlCommand($"SELECT user_id, channel FROM {_schema}.subscriptions WHERE log = $1", connection, transaction))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = _name });
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    if (users.TryGetValue(reader.GetString(0), out var user))
                    {
                        user.Channels.Add(reader.GetString(1));
                    }
                }
            }

            await transaction.CommitAsync(cancellationToken);
            return new SharedLogSnapshot(epoch, trimmed, [.. users.Select(static u => new SharedLogUser(u.Key, u.Value.RegisteredAt, u.Value.Channels))]);
        }, "load its users");
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The membership records it removes are folded into the users and subscriptions tables in the
    /// same transaction, so that a server that starts later reads the same membership.
    /// </remarks>
    public async ValueTask TrimAsync(long beforeSequence, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken);
        await GuardAsync(async () =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

            // One trimmer at a time, whatever the leases say.
            await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction))
            {
                lockCommand.Parameters.Add(new NpgsqlParameter { Value = _leaderLockKey + 1 });
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }

            long trimmed;
            await using (var command = new NpgsqlCommand($"SELECT trimmed_through FROM {_schema}.logs WHERE name = $1", connection, transaction))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = _name });
                trimmed = (long)(await command.ExecuteScalarAsync(cancellationToken) ?? 0L);
            }

            var through = beforeSequence - 1;
            if (through <= trimmed)
            {
                return 0;
            }

            var changes = new List<(short Kind, string User, string? Channel, long Sequence)>();
            await using (var command = new NpgsqlCommand($"SELECT kind, user_id, channel, sequence FROM {_schema}.records WHERE log = $1 AND sequence > $2 AND sequence <= $3 AND kind <> 0 ORDER BY sequence", connection, transaction))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = _name });
                command.Parameters.Add(new NpgsqlParameter { Value = trimmed });
                command.Parameters.Add(new NpgsqlParameter { Value = through });
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    changes.Add((reader.GetInt16(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetInt64(3)));
                }
            }

            await using var batch = new NpgsqlBatch(connection, transaction);
            foreach (var (kind, user, channel, sequence) in changes)
            {
                switch ((LogRecordKind)kind)
                {
                    case LogRecordKind.UserRegistered:
                        batch.BatchCommands.Add(Command($"INSERT INTO {_schema}.users (log, user_id, registered_at) VALUES ($1, $2, $3) ON CONFLICT (log, user_id) DO NOTHING", _name, user, sequence));
                        break;
                    case LogRecordKind.UserUnregistered:
                        batch.BatchCommands.Add(Command($"DELETE FROM {_schema}.subscriptions WHERE log = $1 AND user_id = $2", _name, user));
                        batch.BatchCommands.Add(Command($"DELETE FROM {_schema}.users WHERE log = $1 AND user_id = $2", _name, user));
                        break;
                    case LogRecordKind.Subscribed:
                        batch.BatchCommands.Add(Command($"INSERT INTO {_schema}.subscriptions (log, user_id, channel) SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM {_schema}.users WHERE log = $1 AND user_id = $2) ON CONFLICT DO NOTHING", _name, user, channel!));
                        break;
                    case LogRecordKind.Unsubscribed:
                        batch.BatchCommands.Add(Command($"DELETE FROM {_schema}.subscriptions WHERE log = $1 AND user_id = $2 AND channel = $3", _name, user, channel!));
                        break;
                }
            }

            batch.BatchCommands.Add(Command($"DELETE FROM {_schema}.records WHERE log = $1 AND sequence <= $2", _name, through));
            batch.BatchCommands.Add(Command($"UPDATE {_schema}.logs SET trimmed_through = $2 WHERE name = $1", _name, through));
            await batch.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return changes.Count;
        }, "trim");
    }

    /// <inheritdoc/>
    public async ValueTask ReportPresenceAsync(IReadOnlyList<(string UserId, DateTimeOffset Deadline)> deadlines, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deadlines);
        if (deadlines.Count == 0)
        {
            return;
        }

        // One row per user in a statement: ON CONFLICT cannot touch a row twice.
        var latest = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var (user, deadline) in deadlines)
        {
            latest[user] = latest.TryGetValue(user, out var seen) && seen > deadline ? seen : deadline;
        }

        await InitializeAsync(cancellationToken);
        await GuardAsync(async () =>
        {
            await using var command = _dataSource.CreateCommand(
                $"INSERT INTO {_schema}.presence (log, user_id, deadline) SELECT $1, u, d FROM unnest($2::text[], $3::timestamptz[]) AS p(u, d) " +
                "ON CONFLICT (log, user_id) DO UPDATE SET deadline = GREATEST(presence.deadline, excluded.deadline)");
            command.Parameters.Add(new NpgsqlParameter { Value = _name });
            command.Parameters.Add(new NpgsqlParameter { Value = latest.Keys.ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = latest.Values.Select(static d => d.UtcDateTime).ToArray() });
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, "report presence");
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<string>> TakeExpiredUsersAsync(DateTimeOffset now, TimeSpan claimFor, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken);
        return await GuardAsync(async () =>
        {
            await using var command = _dataSource.CreateCommand($"UPDATE {_schema}.presence SET deadline = $3 WHERE log = $1 AND deadline < $2 RETURNING user_id");
            command.Parameters.Add(new NpgsqlParameter { Value = _name });
            command.Parameters.Add(new NpgsqlParameter { Value = now.UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter { Value = (now + claimFor).UtcDateTime });
            var expired = new List<string>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                expired.Add(reader.GetString(0));
            }

            return (IReadOnlyList<string>)expired;
        }, "take expired users");
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The lease is a session advisory lock held on a connection of its own: the database lets go of
    /// it when that connection ends, a server that was killed included.
    /// </remarks>
    public async ValueTask<bool> TryLeadAsync(CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken);
        await _leaderGate.WaitAsync(cancellationToken);
        try
        {
            if (_leaderConnection is { } held)
            {
                try
                {
                    await using var ping = new NpgsqlCommand("SELECT 1", held);
                    await ping.ExecuteScalarAsync(cancellationToken);
                    return true;
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException or SocketException or TimeoutException)
                {
                    // The connection, and with it the lease, is gone.
                    await held.DisposeAsync();
                    _leaderConnection = null;
                    return false;
                }
            }

            NpgsqlConnection? connection = null;
            try
            {
                connection = await _dataSource.OpenConnectionAsync(cancellationToken);
                await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection);
                command.Parameters.Add(new NpgsqlParameter { Value = _leaderLockKey });
                if (await command.ExecuteScalarAsync(cancellationToken) is true)
                {
                    _leaderConnection = connection;
                    connection = null;
                    Log.BecameLeader(_logger, _name);
                    return true;
                }

                return false;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or SocketException or TimeoutException)
            {
                return false;
            }
            finally
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }
            }
        }
        finally
        {
            _leaderGate.Release();
        }
    }

    /// <inheritdoc/>
    public async ValueTask<long> AdvancePastAsync(long sequence, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken);
        return await GuardAsync(async () =>
        {
            await using var command = _dataSource.CreateCommand($"UPDATE {_schema}.logs SET last_sequence = GREATEST(last_sequence, $2) WHERE name = $1 RETURNING last_sequence");
            command.Parameters.Add(new NpgsqlParameter { Value = _name });
            command.Parameters.Add(new NpgsqlParameter { Value = sequence });
            var last = (long)(await command.ExecuteScalarAsync(cancellationToken) ?? throw new EventLogUnavailableException($"Comety's log '{_name}' has no counter row."));
            NoteKnown(last);
            return last;
        }, "move its sequence numbers on");
    }

    // The doorbell: a connection of its own that only listens (never in a transaction), started
    // again whenever it fails. Every notification carries the last sequence number committed.
    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
                connection.Notification += (_, e) =>
                {
                    if (long.TryParse(e.Payload, out var last))
                    {
                        NoteKnown(last);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN \"{_notifyChannel}\"", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken);
                }

                // Whatever was committed before the LISTEN is read by the caller's fallback read.
                Ring();
                while (!cancellationToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Log.ListenerFailed(_logger, _name, e);
                try
                {
                    await Task.Delay(_options.FallbackReadInterval, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void NoteKnown(long last)
    {
        var ring = false;
        lock (_lock)
        {
            if (last > _knownLast)
            {
                _knownLast = last;
                ring = true;
            }
        }

        if (ring)
        {
            Ring();
        }
    }

    private void Ring()
    {
        TaskCompletionSource rung;
        lock (_lock)
        {
            rung = _doorbell;
            _doorbell = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        rung.TrySetResult();
    }

    // A database that cannot be reached is told apart from a bug: it becomes EventLogUnavailableException,
    // which names the database and the cause; anything else passes through.
    private async Task<T> GuardAsync<T>(Func<Task<T>> work, string what)
    {
        try
        {
            return await work();
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw new EventLogUnavailableException($"Comety's PostgreSQL log '{_name}' could not {what}: {e.Message}", e);
        }
    }

    private async Task GuardAsync(Func<Task> work, string what) =>
        await GuardAsync(async () =>
        {
            await work();
            return 0;
        }, what);

    private static bool IsUnavailable(Exception e) => e switch
    {
        EventLogUnavailableException => false,
        PostgresException p => p.SqlState.StartsWith("08", StringComparison.Ordinal) // connection exceptions
            || p.SqlState.StartsWith("57P", StringComparison.Ordinal) // admin shutdown, crash shutdown, cannot connect now
            || p.SqlState == "53300", // too many connections
        NpgsqlException => true,
        IOException or SocketException or TimeoutException => true,
        _ => false,
    };

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }

    // A 64-bit key for an advisory lock, the same in every process (string.GetHashCode is not).
    private static long StableKey(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return unchecked((long)hash);
    }

    /// <summary>Stops listening and appending, lets go of the leader's lease, and closes the connections.</summary>
    /// <returns>A task that completes when the log is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _appends.Writer.TryComplete();
        await _stopping.CancelAsync();
        await _appender;
        if (_listener is not null)
        {
            await _listener;
        }

        if (_leaderConnection is not null)
        {
            await _leaderConnection.DisposeAsync();
        }

        await _dataSource.DisposeAsync();
        _stopping.Dispose();
    }

    private sealed class PendingAppend(CometyEvent newEvent, byte[] record)
    {
        public CometyEvent Event { get; } = newEvent;

        public byte[] Record { get; } = record;

        public TaskCompletionSource<long> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "This server leads Comety's log '{Name}': it decides heartbeat timeouts and trims the log.", EventName = "BecameLeader")]
        public static partial void BecameLeader(ILogger logger, string name);

        [LoggerMessage(2, LogLevel.Warning, "Listening for new records of Comety's log '{Name}' failed; reading on the fallback timer until it listens again.", EventName = "ListenerFailed")]
        public static partial void ListenerFailed(ILogger logger, string name, Exception exception);
    }
}
