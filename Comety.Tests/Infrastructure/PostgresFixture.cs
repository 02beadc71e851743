namespace Comety.Tests.Infrastructure;

/// <summary>
/// One <see cref="PostgresServer"/> for the tests of the <see cref="PostgresSuite"/> collection:
/// a cluster takes a second or two to create, a database a fraction of that, so the tests share
/// the server and each works in a database of its own (<see cref="CreateDatabaseAsync"/>). A test
/// that stops or breaks the server starts a <see cref="PostgresServer"/> of its own instead.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    /// <summary>The shared server; a test must not stop it.</summary>
    public PostgresServer Server => _server ?? throw new InvalidOperationException("The PostgreSQL server was not started.");

    /// <summary>A new empty database on the shared server, for one test: its connection string.</summary>
    public Task<string> CreateDatabaseAsync(CancellationToken ct = default) => Server.CreateDatabaseAsync(ct);

    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
