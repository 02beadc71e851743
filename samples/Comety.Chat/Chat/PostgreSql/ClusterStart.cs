using Comety.PostgreSql;
using Microsoft.AspNetCore.DataProtection;
using Npgsql;

namespace Comety.Chat.Chat.PostgreSql;

/// <summary>
/// Prepares a server of the cluster before it serves: creates the chat's tables (idempotently),
/// then makes sure the data-protection key ring exists, under a lock that the servers take in
/// turn, so that servers starting together agree on one key rather than each making its own.
/// </summary>
public sealed partial class ClusterStart(PostgreSqlEventLog log, IDataProtectionProvider protection, ILogger<ClusterStart> logger) : IHostedService
{
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(60);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + StartBound;
        while (true)
        {
            try
            {
                await ChatDatabase.CreateAsync(log.DataSource, cancellationToken);
                await EnsureKeyAsync(cancellationToken);
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && DateTime.UtcNow < deadline)
            {
                Log.DatabaseNotReady(logger, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task EnsureKeyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await log.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
        {
            lockCommand.Parameters.AddWithValue("key", ChatDatabase.StartLock);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        // Loads the key ring from the table, and creates the first key if there is none.
        protection.CreateProtector("Comety.Chat.ClusterStart").Protect([1]);
        await transaction.CommitAsync(cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "The chat's database is not ready yet ({Reason}); trying again.")]
        public static partial void DatabaseNotReady(ILogger logger, string reason);
    }
}
