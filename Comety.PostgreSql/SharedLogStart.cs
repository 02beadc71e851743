using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Comety.PostgreSql;

// Starts the dispatcher on the shared log with the application. It does not wait for the
// database: while it cannot be reached, polls answer 503 and the dispatcher keeps trying.
internal sealed partial class SharedLogStart(IServiceProvider services, ILogger<SharedLogStart> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var dispatcher = services.GetRequiredService<CometyDispatcher>();
        var started = dispatcher.StartAsync(CancellationToken.None);
        _ = started.ContinueWith(
            static (task, state) => Log.StartFailed((ILogger)state!, task.Exception!),
            logger,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted,
            TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Comety could not start following its PostgreSQL log.", EventName = "StartFailed")]
        public static partial void StartFailed(ILogger logger, Exception exception);
    }
}
