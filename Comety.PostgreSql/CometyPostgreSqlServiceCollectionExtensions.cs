using Comety;
using Comety.PostgreSql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Puts Comety's log in PostgreSQL.</summary>
public static class CometyPostgreSqlServiceCollectionExtensions
{
    /// <summary>
    /// Makes the application's <see cref="CometyDispatcher"/> use a <see cref="PostgreSqlEventLog"/>: every
    /// server of the application with the same database and <see cref="PostgreSqlEventLogOptions.LogName"/>
    /// shares its users, channels and events, and a restart loses none. The connection string is
    /// <c>ConnectionStrings:Comety</c> unless <paramref name="configure"/> sets one. The schema is created
    /// when the application starts (unless <see cref="PostgreSqlEventLogOptions.CreateSchema"/> is off), and
    /// the dispatcher starts following the log; while the database cannot be reached, polls answer 503 and
    /// the application goes on starting.
    /// </summary>
    /// <param name="services">The application's services; call <c>AddComety</c> too (before or after).</param>
    /// <param name="configure">Changes the options, or <see langword="null"/>.</param>
    /// <returns>The same services, for chaining.</returns>
    public static IServiceCollection AddCometyPostgreSql(this IServiceCollection services, Action<PostgreSqlEventLogOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<PostgreSqlEventLogOptions>();
        options.Configure<IServiceProvider>(static (log, provider) =>
            log.ConnectionString ??= provider.GetService<IConfiguration>()?.GetConnectionString(PostgreSqlEventLogOptions.ConnectionStringName));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(static log => log.FindProblems().Count == 0, "Comety's PostgreSQL log is not configured: set ConnectionStrings:Comety (or PostgreSqlEventLogOptions.ConnectionString).");
        options.ValidateOnStart();
        services.TryAddSingleton(static provider => new PostgreSqlEventLog(
            provider.GetRequiredService<IOptions<PostgreSqlEventLogOptions>>().Value,
            provider.GetService<ILogger<PostgreSqlEventLog>>()));
        services.Replace(ServiceDescriptor.Singleton<IEventLog>(static provider => provider.GetRequiredService<PostgreSqlEventLog>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SharedLogStart>());
        return services;
    }
}
