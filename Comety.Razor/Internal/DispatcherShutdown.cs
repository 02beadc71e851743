using Microsoft.Extensions.Hosting;

namespace Comety.Internal;

/// <summary>
/// Ends waiting polls as soon as the application starts stopping, so that the server does not
/// wait out every poll's hold before it can stop: their polls answer with no events, later polls
/// are answered 503, and clients retry against whatever serves next. The dispatcher itself stays
/// usable (a background service may still post while it stops); the container disposes it last.
/// </summary>
// The lifetime is optional so that AddComety also works in a plain service collection.
internal sealed class DispatcherShutdown(CometyDispatcher dispatcher, IHostApplicationLifetime? lifetime = null) : IHostedService, IDisposable
{
    private CancellationTokenRegistration _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = lifetime?.ApplicationStopping.Register(static state => ((CometyDispatcher)state!).StopPolling(), dispatcher) ?? default;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _registration.Dispose();
}
