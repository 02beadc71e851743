using Npgsql;

namespace Comety.Chat.Chat.PostgreSql;

/// <summary>
/// The chat's own tables, in the schema <c>comety_chat</c> of the database that holds Comety's
/// log: rooms, members, each room's lines, the browser sessions and the data-protection keys.
/// Every server creates them when it starts; that is idempotent, and an advisory lock keeps two
/// servers starting together from racing on the catalog.
/// </summary>
public static class ChatDatabase
{
    public const string Schema = "comety_chat";

    // Any number, as long as this application alone takes it.
    public const long StartLock = 0x436F6D6574794368;

    private const string Tables = $"""
        CREATE SCHEMA IF NOT EXISTS {Schema};
        CREATE TABLE IF NOT EXISTS {Schema}.rooms (
            slug text PRIMARY KEY,
            name text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS {Schema}.members (
            room text NOT NULL REFERENCES {Schema}.rooms (slug),
            user_id text NOT NULL,
            name text NOT NULL,
            PRIMARY KEY (room, user_id));
        CREATE UNIQUE INDEX IF NOT EXISTS members_name ON {Schema}.members (room, lower(name));
        CREATE TABLE IF NOT EXISTS {Schema}.lines (
            seq bigint PRIMARY KEY,
            room text NOT NULL REFERENCES {Schema}.rooms (slug),
            kind text NOT NULL,
            name text NOT NULL,
            text text,
            at timestamptz NOT NULL);
        CREATE INDEX IF NOT EXISTS lines_room ON {Schema}.lines (room, seq);
        CREATE TABLE IF NOT EXISTS {Schema}.sessions (
            id text PRIMARY KEY,
            value bytea NOT NULL,
            expires_at timestamptz NOT NULL,
            sliding_seconds double precision,
            absolute_expires_at timestamptz);
        CREATE TABLE IF NOT EXISTS {Schema}.data_protection_keys (
            name text PRIMARY KEY,
            xml text NOT NULL);
        INSERT INTO {Schema}.rooms (slug, name) VALUES ('lobby', 'Lobby') ON CONFLICT DO NOTHING;
        """;

    /// <summary>Creates the tables unless they exist, and the Lobby unless it exists.</summary>
    public static async Task CreateAsync(NpgsqlDataSource db, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
        {
            lockCommand.Parameters.AddWithValue("key", StartLock);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var create = new NpgsqlCommand(Tables, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }
}
