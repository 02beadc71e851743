using System.Diagnostics.Metrics;
using Comety;
using Comety.Internal;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Comety to an application's services.</summary>
public static class CometyServiceCollectionExtensions
{
    /// <summary>
    /// Adds Comety: <see cref="CometyOptions"/> bound from the <c>Comety</c> configuration section
    /// (when the application has an <see cref="IConfiguration"/>) and validated at start-up, and a
    /// singleton <see cref="CometyDispatcher"/> with an <see cref="InMemoryEventLog"/> for
    /// <see cref="CometyController"/> subclasses to use.
    /// Services already registered (a <see cref="TimeProvider"/>, an <see cref="IEventLog"/>, a
    /// <see cref="CometyDispatcher"/>) are kept. When the application starts stopping, the dispatcher
    /// ends waiting polls and open streams at once (<see cref="CometyDispatcher.StopPolling"/>), so that
    /// they do not hold up the shutdown. When it starts, one Information line in the
    /// <c>Comety.CometyDispatcher</c> category says that Comety serves, with its main settings.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Changes the options after configuration is bound, or <see langword="null"/>; with several calls, each one's in turn.</param>
    /// <returns>The same services, for chaining.</returns>
    public static IServiceCollection AddComety(this IServiceCollection services, Action<CometyOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<CometyOptions>();
        if (!services.Any(static d => d.ServiceType == typeof(IValidateOptions<CometyOptions>) && d.ImplementationType == typeof(CometyOptionsValidator)))
        {
            // Once, so that a second call cannot bind again over the first call's changes; and
            // from IConfiguration only when there is one, so that a bare service collection works too.
            options.Configure<IServiceProvider>(static (comety, provider) =>
                provider.GetService<IConfiguration>()?.GetSection(CometyOptions.SectionName).Bind(comety));
            services.AddSingleton<IOptionsChangeTokenSource<CometyOptions>, ConfigurationChangeTokenSource<CometyOptions>>(static provider =>
                new ConfigurationChangeTokenSource<CometyOptions>(provider.GetService<IConfiguration>() ?? new ConfigurationBuilder().Build()));
            options.ValidateOnStart();
            services.AddSingleton<IValidateOptions<CometyOptions>, CometyOptionsValidator>();
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(static provider =>
            new ClientChannelPatterns(provider.GetRequiredService<IOptions<CometyOptions>>().Value.ClientChannels));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TabSharingSecret>();
        services.TryAddSingleton<IEventLog, InMemoryEventLog>();
        services.TryAddSingleton(static provider => new CometyDispatcher(
            provider.GetRequiredService<IOptions<CometyOptions>>().Value.ToDispatcherOptions(),
            provider.GetRequiredService<IEventLog>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetService<ILogger<CometyDispatcher>>(),
            provider.GetService<IMeterFactory>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DispatcherShutdown>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CometyStartupLog>());
        return services;
    }
}
