using Microsoft.Extensions.Caching.Distributed;
using Npgsql;

namespace Comety.Chat.Chat.PostgreSql;

/// <summary>
/// An <see cref="IDistributedCache"/> in a table, for ASP.NET Core's session: every server of the
/// cluster reads the session any other wrote, so a browser's requests may go to any of them.
/// Expiry is the database's clock; an expired entry is never returned, and rows past their expiry
/// are deleted now and then.
/// </summary>
public sealed class PostgreSqlDistributedCache(NpgsqlDataSource db, TimeProvider clock) : IDistributedCache
{
    private const string Table = $"{ChatDatabase.Schema}.sessions";

    // A sliding entry moves its expiry on each read, never past its absolute expiry.
    private const string Touch = $"""
        UPDATE {Table} SET expires_at = LEAST(now() + make_interval(secs => sliding_seconds), absolute_expires_at)
        WHERE id = @id AND expires_at > now() AND sliding_seconds IS NOT NULL
        """;

    private const string Read = $"""
        WITH touched AS ({Touch} RETURNING value)
        SELECT value FROM touched
        UNION ALL
        SELECT value FROM {Table} WHERE id = @id AND expires_at > now() AND sliding_seconds IS NULL
        """;

    private const string Write = $"""
        INSERT INTO {Table} (id, value, expires_at, sliding_seconds, absolute_expires_at)
        VALUES (@id, @value,
                COALESCE(LEAST(now() + make_interval(secs => @sliding), @absolute), now() + interval '1 day'),
                @sliding, @absolute)
        ON CONFLICT (id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at,
            sliding_seconds = excluded.sliding_seconds, absolute_expires_at = excluded.absolute_expires_at
        """;

    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(5);
    private long _nextSweep;

    public byte[]? Get(string key)
    {
        using var command = Command(Read, key);
        return command.ExecuteScalar() as byte[];
    }

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        await using var command = Command(Read, key);
        return await command.ExecuteScalarAsync(token) as byte[];
    }

    public void Refresh(string key)
    {
        using var command = Command(Touch, key);
        command.ExecuteNonQuery();
    }

    public async Task RefreshAsync(string key, CancellationToken token = default)
    {
        await using var command = Command(Touch, key);
        await command.ExecuteNonQueryAsync(token);
    }

    public void Remove(string key)
    {
        using var command = Command($"DELETE FROM {Table} WHERE id = @id", key);
        command.ExecuteNonQuery();
    }

    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        await using var command = Command($"DELETE FROM {Table} WHERE id = @id", key);
        await command.ExecuteNonQueryAsync(token);
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        using var command = WriteCommand(key, value, options);
        command.ExecuteNonQuery();
        if (SweepDue())
        {
            using var sweep = db.CreateCommand($"DELETE FROM {Table} WHERE expires_at <= now()");
            sweep.ExecuteNonQuery();
        }
    }

    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        await using var command = WriteCommand(key, value, options);
        await command.ExecuteNonQueryAsync(token);
        if (SweepDue())
        {
            await using var sweep = db.CreateCommand($"DELETE FROM {Table} WHERE expires_at <= now()");
            await sweep.ExecuteNonQueryAsync(token);
        }
    }

    private NpgsqlCommand Command(string sql, string key)
    {
        var command = db.CreateCommand(sql);
        command.Parameters.AddWithValue("id", key);
        return command;
    }

    private NpgsqlCommand WriteCommand(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        var now = clock.GetUtcNow();
        DateTimeOffset? absolute = options.AbsoluteExpiration
            ?? (options.AbsoluteExpirationRelativeToNow is { } relative ? now + relative : null);
        var command = Command(Write, key);
        command.Parameters.AddWithValue("value", value);
        command.Parameters.Add(new NpgsqlParameter("sliding", NpgsqlTypes.NpgsqlDbType.Double) { Value = (object?)options.SlidingExpiration?.TotalSeconds ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("absolute", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = (object?)absolute?.UtcDateTime ?? DBNull.Value });
        return command;
    }

    private bool SweepDue()
    {
        var now = clock.GetUtcNow().UtcTicks;
        var next = Interlocked.Read(ref _nextSweep);
        return now >= next && Interlocked.CompareExchange(ref _nextSweep, now + SweepInterval.Ticks, next) == next;
    }
}
