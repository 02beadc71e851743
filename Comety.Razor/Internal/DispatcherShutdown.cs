using Microsoft.Extensions.Hosting;

namespace Comety.Internal;

/// <summary>
/// Ends waiting polls as soon as the application starts stopping, so that the server does not
/// wait out every poll's hold before it can stop: the dispatcher is disposed, its polls answer
/// with no events, and clients retry against whatever serves next.
/// </summary>
// The lifetime is optional so that AddComety also works in a plain service collection.
internal sealed class DispatcherShutdown(Dispatcher dispatcher, IHostApplicationLifetime? lifetime = null) : IHostedService, IDisposable
{
    private CancellationTokenRegistration _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = lifetime?.ApplicationStopping.Register(static state => ((Dispatcher)state!).Dispose(), dispatcher) ?? default;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _registration.Dispose();
}
