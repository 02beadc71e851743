using System.Runtime.CompilerServices;
using System.Net;
using Comety.Tests.Infrastructure.TestApp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Comety.Tests.Infrastructure;

/// <summary>
/// The test application on real Kestrel, bound to 127.0.0.1 on a free port: MVC with views,
/// Comety, <see cref="TestUpdatesController"/> at <c>/test/updates</c> and the test pages.
/// </summary>
public sealed class TestHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestHost(WebApplication app, Uri baseAddress, ListLoggerProvider logs)
    {
        _app = app;
        BaseAddress = baseAddress;
        Logs = logs;
    }

    private readonly ConditionalWeakTable<HttpClient, CookieContainer> _cookies = new();

    public Uri BaseAddress { get; }

    public IServiceProvider Services => _app.Services;

    public CometyDispatcher Dispatcher => _app.Services.GetRequiredService<CometyDispatcher>();

    public ListLoggerProvider Logs { get; }

    public static async Task<TestHost> StartAsync(TestHostOptions? options = null)
    {
        options ??= new TestHostOptions();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(TestHost).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Development,
        });
        builder.WebHost.UseStaticWebAssets();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        var logs = new ListLoggerProvider();
        builder.Logging.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
        builder.Configuration.AddInMemoryCollection(options.Configuration);

        builder.Services.AddControllersWithViews().AddApplicationPart(typeof(TestHost).Assembly);
        if (!options.Antiforgery)
        {
            builder.Services.AddSingleton<Microsoft.AspNetCore.Antiforgery.IAntiforgery, NoAntiforgery>();
        }

        if (options.Session)
        {
            builder.Services.AddDistributedMemoryCache();
            builder.Services.AddSession();
        }

        if (options.TimeProvider is { } clock)
        {
            builder.Services.AddSingleton(clock);
        }

        builder.Services.AddSingleton(options.Behaviour);
        builder.Services.AddComety(comety =>
        {
            comety.HeartbeatTimeout = options.HeartbeatTimeout;
            comety.MaxMessageBytes = options.MaxMessageBytes;
            comety.MaxBacklog = options.MaxBacklog;
            foreach (var pattern in options.ClientChannels)
            {
                comety.ClientChannels.Add(pattern);
            }

            options.Configure?.Invoke(comety);
        });
        options.ConfigureServices?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseStaticFiles();
        if (options.Session)
        {
            app.UseSession();
        }

        options.ConfigureApp?.Invoke(app);
        app.MapControllers();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            // Invalid options fail here (ValidateOnStart); the test sees the exception, not a leaked host.
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new TestHost(app, new Uri(address), logs);
    }

    public HttpClient CreateClient(string? userId = null)
    {
        var cookies = new CookieContainer();
        if (userId is not null)
        {
            cookies.Add(BaseAddress, new Cookie(TestUpdatesController.UserCookie, userId));
        }

        var client = new HttpClient(new SocketsHttpHandler { CookieContainer = cookies, UseCookies = true, PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
        _cookies.Add(client, cookies);
        return client;
    }

    /// <summary>Returns the cookies a client made by <see cref="CreateClient"/> holds, as a browser's jar.</summary>
    public CookieContainer CookiesOf(HttpClient client) => _cookies.TryGetValue(client, out var cookies) ? cookies : throw new ArgumentException("Not a client of this host.", nameof(client));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(TimeSpan.FromSeconds(5));
        await _app.DisposeAsync();
    }
}
