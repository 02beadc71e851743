using Npgsql;

namespace Comety.PostgreSql;

/// <summary>Creates or upgrades Comety's schema: the embedded scripts in version order, each once, under an advisory lock.</summary>
internal static class PostgreSqlSchema
{
    /// <summary>The schema version this package needs.</summary>
    public const int Version = 1;

    public static async Task EnsureAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Servers that start together create the schema once: the others wait here, then find it made.
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('comety-schema:' || $1))", connection, transaction))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter { Value = schema });
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        // Two statements: one that names a table that does not exist would abort the transaction.
        var current = 0;
        await using (var exists = new NpgsqlCommand($"SELECT to_regclass('{schema}.schema_versions') IS NOT NULL", connection, transaction))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken) is true)
            {
                await using var versionCommand = new NpgsqlCommand($"SELECT coalesce(max(version), 0) FROM {schema}.schema_versions", connection, transaction);
                current = Convert.ToInt32(await versionCommand.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        if (current > Version)
        {
            throw new InvalidOperationException($"Comety's schema '{schema}' is at version {current}, newer than this package's {Version}: upgrade Comety.PostgreSql.");
        }

        for (var version = current + 1; version <= Version; version++)
        {
            await using var script = new NpgsqlCommand(Script(version, schema), connection, transaction);
            await script.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Returns the script of a version with the schema's name in place of <c>comety</c>.</summary>
    public static string Script(int version, string schema)
    {
        using var stream = typeof(PostgreSqlSchema).Assembly.GetManifestResourceStream($"Comety.PostgreSql.Schema.comety-schema-{version}.sql")
            ?? throw new InvalidOperationException($"The schema script of version {version} is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd()
            .Replace("comety.", schema + ".", StringComparison.Ordinal)
            .Replace("SCHEMA IF NOT EXISTS comety;", $"SCHEMA IF NOT EXISTS {schema};", StringComparison.Ordinal);
    }
}
