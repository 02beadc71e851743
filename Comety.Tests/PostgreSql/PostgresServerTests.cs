using Comety.Tests.Infrastructure;
using Npgsql;

namespace Comety.Tests.PostgreSql;

/// <summary>
/// The PostgreSQL servers the tests start themselves: the shared one of <see cref="PostgresFixture"/>,
/// and the tests' own <see cref="PostgresServer"/> for stopping and disposal.
/// </summary>
[Collection(PostgresSuite.Name)]
[Trait("Category", "PostgreSql")]
public sealed class PostgresServerTests(PostgresFixture fixture)
{
    [Fact]
    public async Task A_query_runs_on_the_shared_server_as_the_superuser()
    {
        await using var connection = new NpgsqlConnection(fixture.Server.ConnectionString);
        await connection.OpenAsync();

        Assert.Equal(fixture.Server.Port, new NpgsqlConnectionStringBuilder(fixture.Server.ConnectionString).Port);
        Assert.StartsWith("PostgreSQL ", (string?)await Scalar(connection, "SELECT version()"));
        Assert.Equal("postgres", await Scalar(connection, "SELECT current_user"));
        Assert.Equal("UTF8", await Scalar(connection, "SHOW server_encoding"));
        Assert.Equal("off", await Scalar(connection, "SHOW fsync"));
        Assert.Equal("300", await Scalar(connection, "SHOW max_connections"));
    }

    [Fact]
    public async Task Two_created_databases_are_separate_and_empty()
    {
        var first = await fixture.CreateDatabaseAsync();
        var second = await fixture.CreateDatabaseAsync();

        await using var one = new NpgsqlConnection(first);
        await using var other = new NpgsqlConnection(second);
        await one.OpenAsync();
        await other.OpenAsync();
        Assert.NotEqual(await Scalar(one, "SELECT current_database()"), await Scalar(other, "SELECT current_database()"));
        Assert.Equal(0L, await Scalar(one, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"));

        await Execute(one, "CREATE TABLE events (id int PRIMARY KEY); INSERT INTO events VALUES (1)");

        Assert.Equal(1L, await Scalar(one, "SELECT count(*) FROM events"));
        Assert.Null(await Scalar(other, "SELECT to_regclass('public.events')::text"));
    }

    [Fact]
    public async Task Stopping_and_starting_again_keeps_the_data_and_the_port()
    {
        await using var server = await PostgresServer.StartAsync();
        var database = await server.CreateDatabaseAsync();
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await Execute(connection, "CREATE TABLE events (id int PRIMARY KEY); INSERT INTO events VALUES (1), (2)");
        }

        var port = server.Port;
        await server.StopAsync();

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => OpenUnpooledAsync(database));

        await server.StartAgainAsync();

        Assert.Equal(port, server.Port);
        await using (var connection = new NpgsqlConnection(database))
        {
            // Pooled: the pool the stop cleared opens a new connection.
            await connection.OpenAsync();
            Assert.Equal(2L, await Scalar(connection, "SELECT count(*) FROM events"));
        }
    }

    [Fact]
    public async Task Disposing_stops_the_server_and_deletes_its_folder()
    {
        var server = await PostgresServer.StartAsync();
        var folder = server.Folder;
        var connectionString = server.ConnectionString;
        Assert.True(Directory.Exists(Path.Combine(folder, "data")));
        await (await OpenUnpooledAsync(connectionString)).DisposeAsync();

        await server.DisposeAsync();

        Assert.False(Directory.Exists(folder));
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => OpenUnpooledAsync(connectionString));
    }

    private static async Task<NpgsqlConnection> OpenUnpooledAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 5 }.ConnectionString);
        try
        {
            await connection.OpenAsync();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<object?> Scalar(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
