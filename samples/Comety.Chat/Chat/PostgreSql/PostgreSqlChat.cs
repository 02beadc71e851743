using System.Data;
using Comety.PostgreSql;
using Npgsql;

namespace Comety.Chat.Chat.PostgreSql;

/// <summary>
/// The chat on a cluster: rooms, members and lines are rows of the database that holds Comety's
/// log, so that every server shows the same rooms. Each change locks its room's row, and a line
/// is written in the same transaction that posts its Comety event
/// (<see cref="CometyDispatcherPostgreSqlExtensions.PostToChannelAsync"/>): the line is in the
/// history if and only if its event is delivered, under the same sequence number, whatever server
/// crashes when.
/// </summary>
public sealed class PostgreSqlChat(CometyDispatcher dispatcher, PostgreSqlEventLog log, TimeProvider clock) : IChat
{
    private const string Sender = ChatLine.Sender;
    private const string S = ChatDatabase.Schema;

    private NpgsqlDataSource Db => log.DataSource;

    public async Task<IReadOnlyList<RoomInfo>> RoomsAsync(CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand($"SELECT r.slug, r.name, (SELECT count(*) FROM {S}.members m WHERE m.room = r.slug)::int FROM {S}.rooms r");
        var rooms = new List<RoomInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rooms.Add(new RoomInfo(reader.GetString(0), reader.GetString(1), reader.GetInt32(2)));
        }

        return [.. rooms.OrderBy(static r => r.Name, StringComparer.CurrentCultureIgnoreCase)];
    }

    public async Task<RoomInfo?> FindRoomAsync(string slug, CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand($"SELECT r.name, (SELECT count(*) FROM {S}.members m WHERE m.room = r.slug)::int FROM {S}.rooms r WHERE r.slug = @slug");
        command.Parameters.AddWithValue("slug", slug);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new RoomInfo(slug, reader.GetString(0), reader.GetInt32(1)) : null;
    }

    public async Task<RoomInfo?> CreateRoomAsync(string name, CancellationToken cancellationToken)
    {
        var slug = RoomStore.Slugify(name);
        if (slug.Length == 0)
        {
            return null;
        }

        await using (var command = Db.CreateCommand($"INSERT INTO {S}.rooms (slug, name) VALUES (@slug, @name) ON CONFLICT (slug) DO NOTHING"))
        {
            command.Parameters.AddWithValue("slug", slug);
            command.Parameters.AddWithValue("name", name.Trim());
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return await FindRoomAsync(slug, cancellationToken);
    }

    public async Task<string?> JoinAsync(RoomInfo room, string name, CancellationToken cancellationToken)
    {
        var userId = Guid.NewGuid().ToString("N");
        var registered = false;
        await using (var connection = await Db.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            try
            {
                if (!await LockRoomAsync(transaction, room, cancellationToken))
                {
                    return null;
                }

                await using (var taken = Command(transaction, $"SELECT 1 FROM {S}.members WHERE room = @room AND lower(name) = lower(@name)", room))
                {
                    taken.Parameters.AddWithValue("name", name);
                    if (await taken.ExecuteScalarAsync(cancellationToken) is not null)
                    {
                        return null;
                    }
                }

                await using (var insert = Command(transaction, $"INSERT INTO {S}.members (room, user_id, name) VALUES (@room, @user, @name)", room))
                {
                    insert.Parameters.AddWithValue("user", userId);
                    insert.Parameters.AddWithValue("name", name);
                    await insert.ExecuteNonQueryAsync(cancellationToken);
                }

                // Registering and subscribing append to the log on their own, before this
                // transaction posts (a transaction that has posted holds the log's append lock).
                await dispatcher.RegisterUserAsync(userId, cancellationToken: cancellationToken);
                registered = true;
                await dispatcher.SubscribeAsync(userId, room.Channel, cancellationToken);
                await PostLineAsync(transaction, room, "join", name, text: null, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return userId;
            }
            catch when (registered)
            {
                await transaction.RollbackAsync(CancellationToken.None);
                registered = false;
                await UnregisterQuietlyAsync(userId);
                throw;
            }
        }
    }

    public async Task SayAsync(RoomInfo room, string userId, string text)
    {
        text = text.Trim();
        if (text.Length is 0 or > ChatService.MaxMessageLength)
        {
            return;
        }

        await using var connection = await Db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        if (!await LockRoomAsync(transaction, room, CancellationToken.None))
        {
            return;
        }

        await using (var member = Command(transaction, $"SELECT name FROM {S}.members WHERE room = @room AND user_id = @user", room))
        {
            member.Parameters.AddWithValue("user", userId);
            if (await member.ExecuteScalarAsync() is not string name)
            {
                return;
            }

            await PostLineAsync(transaction, room, "message", name, text, CancellationToken.None);
        }

        await transaction.CommitAsync();
    }

    public async Task LeftAsync(RoomInfo room, string userId)
    {
        await using var connection = await Db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        if (!await LockRoomAsync(transaction, room, CancellationToken.None))
        {
            return;
        }

        await using (var member = Command(transaction, $"DELETE FROM {S}.members WHERE room = @room AND user_id = @user RETURNING name", room))
        {
            member.Parameters.AddWithValue("user", userId);
            if (await member.ExecuteScalarAsync() is not string name)
            {
                return;
            }

            await PostLineAsync(transaction, room, "leave", name, text: null, CancellationToken.None);
        }

        await transaction.CommitAsync();
    }

    /// <summary>
    /// The members and the last lines, read in one snapshot of the database. The page resumes at
    /// the room's last line: its events are committed in sequence order, so every line this
    /// snapshot misses comes after it, and every line it shows is at or before it.
    /// </summary>
    public async Task<RoomSnapshot> SnapshotAsync(RoomInfo room, CancellationToken cancellationToken)
    {
        await using var connection = await Db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var members = new List<string>();
        await using (var command = Command(transaction, $"SELECT name FROM {S}.members WHERE room = @room", room))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                members.Add(reader.GetString(0));
            }
        }

        var lines = new List<ChatLine>();
        await using (var command = Command(transaction, $"SELECT kind, name, text, at, seq FROM {S}.lines WHERE room = @room ORDER BY seq DESC LIMIT @count", room))
        {
            command.Parameters.AddWithValue("count", Room.HistoryLength);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                lines.Add(new ChatLine(
                    reader.GetString(0),
                    reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2),
                    new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero),
                    reader.GetInt64(4)));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        lines.Reverse();
        var renderedAt = lines.Count > 0 ? lines[^1].Sequence : 0;
        return new RoomSnapshot(
            room with { MemberCount = members.Count },
            [.. members.Order(StringComparer.CurrentCultureIgnoreCase)],
            lines,
            renderedAt);
    }

    public async Task<bool> IsInRoomAsync(RoomInfo room, string? userId, CancellationToken cancellationToken)
    {
        if (userId is null || !await IsMemberAsync(room, userId, cancellationToken))
        {
            return false;
        }

        // The server that registered the user may be another one: see its registration first.
        await dispatcher.CatchUpAsync(null, cancellationToken);
        return dispatcher.IsRegistered(userId);
    }

    public async Task<bool> IsMemberAsync(RoomInfo room, string userId, CancellationToken cancellationToken)
    {
        await using var command = Db.CreateCommand($"SELECT 1 FROM {S}.members WHERE room = @room AND user_id = @user");
        command.Parameters.AddWithValue("room", room.Slug);
        command.Parameters.AddWithValue("user", userId);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    private static NpgsqlCommand Command(NpgsqlTransaction transaction, string sql, RoomInfo room)
    {
        var command = new NpgsqlCommand(sql, transaction.Connection, transaction);
        command.Parameters.AddWithValue("room", room.Slug);
        return command;
    }

    // Serializes the changes to one room: who is in it, and the order of its lines.
    private static async Task<bool> LockRoomAsync(NpgsqlTransaction transaction, RoomInfo room, CancellationToken cancellationToken)
    {
        await using var command = Command(transaction, $"SELECT 1 FROM {S}.rooms WHERE slug = @room FOR UPDATE", room);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    // The showcase: the event and the history row commit together, or neither does.
    private async Task PostLineAsync(NpgsqlTransaction transaction, RoomInfo room, string kind, string name, string? text, CancellationToken cancellationToken)
    {
        var at = clock.GetUtcNow();
        var args = ChatLine.EventArgs(kind, name, text, at);

        var sequence = await dispatcher.PostToChannelAsync(transaction, room.Channel, Sender, args, cancellationToken);
        await using var insert = Command(transaction, $"INSERT INTO {S}.lines (seq, room, kind, name, text, at) VALUES (@seq, @room, @kind, @name, @text, @at)", room);
        insert.Parameters.AddWithValue("seq", sequence);
        insert.Parameters.AddWithValue("kind", kind);
        insert.Parameters.AddWithValue("name", name);
        insert.Parameters.Add(new NpgsqlParameter("text", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)text ?? DBNull.Value });
        insert.Parameters.AddWithValue("at", at.UtcDateTime);
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task UnregisterQuietlyAsync(string userId)
    {
        try
        {
            await dispatcher.UnregisterUserAsync(userId);
        }
        catch (UnknownUserException)
        {
            // Gone already.
        }
        catch (EventLogUnavailableException)
        {
            // Its heartbeat times out instead.
        }
    }
}
