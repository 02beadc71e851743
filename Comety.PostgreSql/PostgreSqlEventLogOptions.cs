using System.Text.RegularExpressions;

namespace Comety.PostgreSql;

/// <summary>Settings of a <see cref="PostgreSqlEventLog"/>.</summary>
public sealed partial class PostgreSqlEventLogOptions
{
    /// <summary>The configuration key of the default connection string: <c>ConnectionStrings:Comety</c>.</summary>
    public const string ConnectionStringName = "Comety";

    /// <summary>
    /// Gets or sets the Npgsql connection string. <c>AddCometyPostgreSql</c> takes
    /// <c>ConnectionStrings:Comety</c> from configuration when it is not set.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets the PostgreSQL schema of Comety's tables. The default is <c>comety</c>.</summary>
    public string Schema { get; set; } = "comety";

    /// <summary>
    /// Gets or sets the log's name: servers of one application share a name; two applications (two
    /// dispatchers) on one database take two. The default is <c>default</c>.
    /// </summary>
    public string LogName { get; set; } = "default";

    /// <summary>
    /// Gets or sets whether the log creates (or upgrades) its schema when it starts. The default is
    /// <see langword="true"/>; set it to <see langword="false"/> where the schema is managed by hand
    /// (the package's <c>content/Schema/comety-schema-1.sql</c>).
    /// </summary>
    public bool CreateSchema { get; set; } = true;

    /// <summary>
    /// Gets or sets how long a server waits for the database's notification of new records before it
    /// reads anyway: a lost notification only delays delivery by this much. The default is one second.
    /// </summary>
    public TimeSpan FallbackReadInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how many posts at most go into one append transaction. The default is 500.</summary>
    public int MaxAppendBatch { get; set; } = 500;

    /// <summary>Returns what is wrong with the settings, one sentence each; empty when they are valid.</summary>
    /// <returns>The problems.</returns>
    public IReadOnlyList<string> FindProblems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            problems.Add($"Comety's PostgreSQL log needs a connection string: set ConnectionStrings:{ConnectionStringName} in configuration, or PostgreSqlEventLogOptions.ConnectionString.");
        }

        if (Schema is null || !Identifier().IsMatch(Schema))
        {
            problems.Add($"Schema must be a lower-case PostgreSQL identifier (letters, digits and _, at most 40 characters); it is '{Schema}'.");
        }

        if (LogName is null || !Name().IsMatch(LogName))
        {
            problems.Add($"LogName must be 1 to 40 letters, digits, '_' or '-'; it is '{LogName}'.");
        }

        if (FallbackReadInterval <= TimeSpan.Zero || FallbackReadInterval > TimeSpan.FromMinutes(1))
        {
            problems.Add($"FallbackReadInterval must be positive and at most one minute; it is {FallbackReadInterval}.");
        }

        if (MaxAppendBatch < 1)
        {
            problems.Add($"MaxAppendBatch must be at least 1; it is {MaxAppendBatch}.");
        }

        return problems;
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,39}$")]
    private static partial Regex Identifier();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,40}$")]
    private static partial Regex Name();
}
