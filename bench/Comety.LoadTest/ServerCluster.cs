using System.Globalization;
using Comety.Tests.Infrastructure;

namespace Comety.LoadTest;

/// <summary>
/// The servers of one row: a single server process, or several Comety servers on one PostgreSQL
/// database of the run's own (<see cref="PostgresServer"/>: initdb into a temporary folder, a free
/// loopback port). The figures are summed over the servers (CPU, memory, requests waiting); posts
/// go to the servers in turn; the database's own CPU is read apart.
/// </summary>
internal sealed class ServerCluster : IAsyncDisposable
{
    private readonly ServerProcess[] _servers;
    private readonly PostgresServer? _database;
    private readonly string _project;
    private readonly string[] _arguments;

    private ServerCluster(ServerProcess[] servers, PostgresServer? database, string? connectionString, string project, string[] arguments)
    {
        _servers = servers;
        _database = database;
        ConnectionString = connectionString;
        _project = project;
        _arguments = arguments;
    }

    public IReadOnlyList<ServerProcess> Servers => _servers;

    /// <summary>Every server's base address: the Comety fleet sends each request to one of them at random.</summary>
    public IReadOnlyList<Uri> Addresses => [.. _servers.Select(s => s.Address)];

    /// <summary>The servers' database, or null for a single server on its own memory.</summary>
    public string? ConnectionString { get; }

    public string Describe() => string.Join(", ", _servers.Select(s => $"server pid {s.ProcessId} at {s.Address}"))
        + (_database is null ? "" : $"; PostgreSQL pid {_database.PostmasterProcessId} on port {_database.Port}");

    /// <summary>One server process.</summary>
    public static async Task<ServerCluster> StartAsync(string project, params string[] arguments) =>
        new([await ServerProcess.StartAsync(project, arguments)], null, null, project, arguments);

    /// <summary>
    /// A new PostgreSQL cluster, a database on it, and <paramref name="count"/> Comety servers on that
    /// database (the shared log), started one after the other.
    /// </summary>
    public static async Task<ServerCluster> StartOnPostgreSqlAsync(int count, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var database = await PostgresServer.StartAsync(cancellationToken);
        var servers = new List<ServerProcess>();
        try
        {
            var connectionString = await database.CreateDatabaseAsync(cancellationToken);
            string[] serverArguments = ["--ConnectionStrings:Comety=" + connectionString, .. arguments];
            for (var i = 0; i < count; i++)
            {
                servers.Add(await ServerProcess.StartAsync("Comety.LoadTest.CometyServer", serverArguments));
            }

            return new ServerCluster([.. servers], database, connectionString, "Comety.LoadTest.CometyServer", serverArguments);
        }
        catch
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }

            await database.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills server <paramref name="index"/> with SIGKILL and waits until it has exited; its slot keeps the dead process until <see cref="StartAgainAsync"/>.</summary>
    public Task KillAsync(int index) => _servers[index].KillAsync();

    /// <summary>
    /// Starts server <paramref name="index"/> again with the same arguments on the same port, once it
    /// was killed, and returns when it listens (it prints its address once the application has
    /// started). A port still held (the kernel letting go of the old listener) is tried again, every
    /// 100 ms for at most 10 s.
    /// </summary>
    public async Task<ServerProcess> StartAgainAsync(int index)
    {
        var old = _servers[index];
        var port = old.Address.Port;
        await old.DisposeAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                return _servers[index] = await ServerProcess.StartAsync(_project, port, _arguments);
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100));
            }
        }
    }

    /// <summary>User plus system CPU time of the servers, summed.</summary>
    public TimeSpan CpuTime() => _servers.Aggregate(TimeSpan.Zero, (sum, s) => sum + s.CpuTime());

    /// <summary>The servers' resident set sizes, summed.</summary>
    public long ResidentBytes() => _servers.Sum(s => s.ResidentBytes());

    /// <summary>
    /// User plus system CPU time of the database's processes so far: the postmaster, the sessions that
    /// run (its children), and the children it reaped (its cumulative children's time); null without a database.
    /// </summary>
    public TimeSpan? DatabaseCpuTime()
    {
        if (_database?.PostmasterProcessId is not { } postmaster)
        {
            return null;
        }

        var ticks = 0L;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (IOException)
            {
                continue; // gone meanwhile
            }

            var fields = ServerProcess.StatFields(stat);
            long Field(int index) => long.Parse(fields[index], CultureInfo.InvariantCulture);
            if (pid == postmaster)
            {
                ticks += Field(11) + Field(12) + Field(13) + Field(14);
            }
            else if (Field(1) == postmaster)
            {
                ticks += Field(11) + Field(12);
            }
        }

        return ServerProcess.ClockTicks(ticks);
    }

    /// <summary>
    /// Requests waiting, summed; rooms joined as the server that knows the fewest sees them (each
    /// server of a shared log sees every subscription once it has read it); memory and collections summed.
    /// </summary>
    public async Task<ServerStatus> StatusAsync(bool joined = false, CancellationToken cancellationToken = default) =>
        Sum(await Task.WhenAll(_servers.Select(s => s.StatusAsync(joined, cancellationToken))));

    public async Task<ServerStatus> CollectGarbageAsync(CancellationToken cancellationToken = default) =>
        Sum(await Task.WhenAll(_servers.Select(s => s.CollectGarbageAsync(cancellationToken))));

    /// <summary>Broadcast <paramref name="index"/> goes through server <c>index % servers</c>.</summary>
    public Task BroadcastAsync(int index, CancellationToken cancellationToken = default) =>
        _servers[index % _servers.Length].BroadcastAsync(index, cancellationToken);

    /// <summary>Back to back through one server, so that the events' order in the log is their order of indices.</summary>
    public Task BurstAsync(int start, int count, CancellationToken cancellationToken = default) =>
        _servers[start % _servers.Length].BurstAsync(start, count, cancellationToken);

    public Task PostToRoomAsync(string room, int index, CancellationToken cancellationToken = default) =>
        _servers[index % _servers.Length].PostToRoomAsync(room, index, cancellationToken);

    private static ServerStatus Sum(ServerStatus[] statuses) => new(
        statuses.Sum(s => s.Waiting),
        statuses.Min(s => s.Joined),
        statuses.Sum(s => s.HeapBytes),
        statuses.Sum(s => s.AllocatedBytes),
        statuses.Sum(s => s.Gen0Collections),
        statuses.Sum(s => s.Gen2Collections),
        statuses.Sum(s => s.CommittedBytes));

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
