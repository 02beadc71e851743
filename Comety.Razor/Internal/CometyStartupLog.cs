using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Comety.Internal;

/// <summary>
/// Says once, when the application starts, that Comety serves and with which settings: at
/// Information, which an application's default log levels show, so that a first run tells
/// whether Comety is there at all.
/// </summary>
// The logger factory is optional so that AddComety also works in a plain service collection.
internal sealed partial class CometyStartupLog(CometyDispatcher dispatcher, IOptions<CometyOptions> options, ILoggerFactory? loggerFactory = null) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (loggerFactory is not null)
        {
            var comety = options.Value;
            var settings = dispatcher.Options;
            Started(
                loggerFactory.CreateLogger<CometyDispatcher>(),
                Seconds(settings.HeartbeatTimeout),
                Seconds(comety.ClientTimeout),
                Seconds(comety.MaxClientTimeout),
                comety.ResponseTimeoutFactor,
                settings.MaxBacklog,
                settings.MaxRetainedEvents,
                settings.NotifyOnTimeout);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    [LoggerMessage(
        201,
        LogLevel.Information,
        "Comety is serving: heartbeat timeout {HeartbeatTimeout}, poll timeout {ClientTimeout} (at most {MaxClientTimeout}, held for {ResponseTimeoutFactor} of it), backlog {MaxBacklog} events per user, {MaxRetainedEvents} retained in all, timeouts announced: {NotifyOnTimeout}.",
        EventName = "CometyStarted")]
    private static partial void Started(ILogger logger, string heartbeatTimeout, string clientTimeout, string maxClientTimeout, double responseTimeoutFactor, int maxBacklog, int maxRetainedEvents, bool notifyOnTimeout);
}
