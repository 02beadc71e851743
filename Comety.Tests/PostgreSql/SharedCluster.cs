using Comety.PostgreSql;
using Comety.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Comety.Tests.PostgreSql;

/// <summary>
/// Several servers in one test process: each a <see cref="CometyDispatcher"/> on a
/// <see cref="PostgreSqlEventLog"/> of its own (its own connections, listener and lease), all on
/// one database and log name, as the processes of a cluster would be.
/// </summary>
internal sealed class SharedCluster : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private readonly Func<DispatcherOptions> _options;
    private readonly string _logName;
    private readonly CometyDispatcher?[] _servers;
    private readonly PostgreSqlEventLog?[] _logs;

    private SharedCluster(string connectionString, int count, TimeProvider time, Func<DispatcherOptions> options, string logName)
    {
        _connectionString = connectionString;
        _time = time;
        _options = options;
        _logName = logName;
        _servers = new CometyDispatcher?[count];
        _logs = new PostgreSqlEventLog?[count];
    }

    public string ConnectionString => _connectionString;

    /// <summary>What every server logged, for a failing test's message.</summary>
    public ListLoggerProvider Logs { get; } = new();

    public string DescribeLogs() => string.Join(Environment.NewLine, Logs.Entries.Where(static e => e.Level >= LogLevel.Information).Select(static e => $"{e.Level} {e.Category} {e.EventName}: {e.Message} {e.Exception?.GetType().Name} {e.Exception?.Message}"));

    public CometyDispatcher this[int index] => _servers[index] ?? throw new InvalidOperationException($"Server {index} is stopped.");

    public PostgreSqlEventLog LogOf(int index) => _logs[index] ?? throw new InvalidOperationException($"Server {index} is stopped.");

    public int Count => _servers.Length;

    public static async Task<SharedCluster> StartAsync(string connectionString, int count, TimeProvider? time = null, Func<DispatcherOptions>? options = null, string logName = "default")
    {
        var cluster = new SharedCluster(connectionString, count, time ?? TimeProvider.System, options ?? (static () => new DispatcherOptions()), logName);
        for (var i = 0; i < count; i++)
        {
            await cluster.StartServerAsync(i);
        }

        return cluster;
    }

    public async Task StartServerAsync(int index)
    {
        var log = new PostgreSqlEventLog(new PostgreSqlEventLogOptions
        {
            ConnectionString = _connectionString,
            LogName = _logName,
            FallbackReadInterval = TimeSpan.FromMilliseconds(500),
        }, new Logger<PostgreSqlEventLog>(new LoggerFactory([Logs])));
        var dispatcher = new CometyDispatcher(_options(), log, _time, new Logger<CometyDispatcher>(new LoggerFactory([Logs])));
        _logs[index] = log;
        _servers[index] = dispatcher;
        await dispatcher.StartAsync().WaitAsync(TestEvents.Bound);
    }

    public async Task StopServerAsync(int index)
    {
        _servers[index]?.Dispose();
        if (_logs[index] is { } log)
        {
            await log.DisposeAsync();
        }

        _servers[index] = null;
        _logs[index] = null;
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < _servers.Length; i++)
        {
            await StopServerAsync(i);
        }
    }
}
