using System.Net;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Http;

/// <summary><c>AddComety</c>: options from the <c>Comety</c> section, checked at start-up, and services an application registered first kept.</summary>
public sealed class CometyServicesTests
{
    private static readonly ServiceProviderOptions Validating = new() { ValidateOnBuild = true, ValidateScopes = true };

    [Fact]
    public void Options_are_bound_from_the_Comety_configuration_section()
    {
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(Configuration(new()
            {
                ["Comety:HeartbeatTimeout"] = "00:00:07",
                ["Comety:MaxClientTimeout"] = "00:02:00",
                ["Comety:ResponseTimeoutFactor"] = "0.25",
                ["Comety:ClientTimeout"] = "00:00:20",
                ["Comety:MaxMessageBytes"] = "2048",
                ["Comety:ValidateAntiforgery"] = "false",
                ["Comety:MaxBacklog"] = "50",
                ["Comety:MaxRetainedEvents"] = "500",
                ["Comety:NotifyOnTimeout"] = "true",
                ["Comety:ClientChannels:0"] = "room:*",
                ["Comety:ClientChannels:1"] = "lobby",
                ["Comety:MaxClientChannelsPerUser"] = "12",
                ["Comety:MaxPollsPerUser"] = "3",
            }))
            .AddLogging()
            .AddComety();
        using var provider = services.BuildServiceProvider(Validating);

        var options = provider.GetRequiredService<IOptions<CometyOptions>>().Value;
        var dispatcher = provider.GetRequiredService<CometyDispatcher>();

        Assert.Equal(TimeSpan.FromSeconds(7), options.HeartbeatTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), options.MaxClientTimeout);
        Assert.Equal(0.25, options.ResponseTimeoutFactor);
        Assert.Equal(TimeSpan.FromSeconds(20), options.ClientTimeout);
        Assert.Equal(2048, options.MaxMessageBytes);
        Assert.False(options.ValidateAntiforgery);
        Assert.Equal(["room:*", "lobby"], options.ClientChannels);
        Assert.Equal(12, options.MaxClientChannelsPerUser);
        Assert.Equal(TimeSpan.FromSeconds(7), dispatcher.Options.HeartbeatTimeout);
        Assert.Equal(50, dispatcher.Options.MaxBacklog);
        Assert.Equal(500, dispatcher.Options.MaxRetainedEvents);
        Assert.True(dispatcher.Options.NotifyOnTimeout);
        Assert.Equal(3, dispatcher.Options.MaxPollsPerUser);
    }

    [Fact]
    public void The_configure_callback_runs_after_configuration_is_bound()
    {
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(Configuration(new() { ["Comety:MaxBacklog"] = "50", ["Comety:MaxMessageBytes"] = "2048" }))
            .AddComety(o => o.MaxBacklog = 7);
        using var provider = services.BuildServiceProvider(Validating);

        var options = provider.GetRequiredService<IOptions<CometyOptions>>().Value;

        Assert.Equal(7, options.MaxBacklog);
        Assert.Equal(2048, options.MaxMessageBytes);
    }

    [Fact]
    public void Configure_callbacks_of_several_calls_all_run_after_configuration_is_bound()
    {
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(Configuration(new() { ["Comety:MaxBacklog"] = "50", ["Comety:MaxMessageBytes"] = "2048" }))
            .AddComety(o => o.MaxBacklog = 7)
            .AddComety(o => o.MaxRetainedEvents = 70)
            .AddComety();
        using var provider = services.BuildServiceProvider(Validating);

        var options = provider.GetRequiredService<IOptions<CometyOptions>>().Value;

        Assert.Equal(7, options.MaxBacklog);
        Assert.Equal(70, options.MaxRetainedEvents);
        Assert.Equal(2048, options.MaxMessageBytes);
    }

    [Fact]
    public async Task A_web_application_serves_polls_with_the_bound_options()
    {
        var options = new TestHostOptions();
        options.Configuration["Comety:MaxClientTimeout"] = "00:00:20";
        await using var host = await TestHost.StartAsync(options).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await host.Dispatcher.BroadcastAsync("Chat", Args("message")).Bounded();

        using var above = await client.PollAsync("timeout=21").Bounded();
        await above.AssertProblemAsync(HttpStatusCode.BadRequest);
        var answer = await client.PollOkAsync("timeout=20");

        Assert.Equal([1L], answer.Sequences);
    }

    [Theory]
    [InlineData("HeartbeatTimeout", "00:00:00")]
    [InlineData("HeartbeatTimeout", "2.00:00:00")]
    [InlineData("MaxClientTimeout", "00:00:00")]
    [InlineData("ClientTimeout", "00:10:00")]
    [InlineData("ClientTimeout", "-00:00:01")]
    [InlineData("ResponseTimeoutFactor", "0")]
    [InlineData("ResponseTimeoutFactor", "1.5")]
    [InlineData("ResponseTimeoutFactor", "NaN")]
    [InlineData("MaxMessageBytes", "0")]
    [InlineData("MaxBacklog", "0")]
    [InlineData("MaxRetainedEvents", "999")]
    [InlineData("MaxClientChannelsPerUser", "0")]
    [InlineData("MaxPollsPerUser", "0")]
    [InlineData("ClientChannels:0", "ro*om")]
    public async Task An_invalid_setting_fails_the_start_with_a_message_that_names_it(string setting, string value)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [$"Comety:{setting}"] = value });
        builder.Services.AddComety();
        using var host = builder.Build();

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().Bounded());

        Assert.Contains($"Comety:{setting}", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_web_application_with_an_invalid_setting_does_not_start()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(
            () => TestHost.StartAsync(new TestHostOptions { Configure = o => o.ResponseTimeoutFactor = 2 }).Bounded());

        Assert.Contains("Comety:ResponseTimeoutFactor", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_services_resolve_in_a_provider_that_validates_on_build_and_scopes()
    {
        var services = new ServiceCollection().AddLogging().AddMetrics().AddComety();
        using var provider = services.BuildServiceProvider(Validating);
        using var scope = provider.CreateScope();

        var dispatcher = scope.ServiceProvider.GetRequiredService<CometyDispatcher>();
        provider.GetRequiredService<IStartupValidator>().Validate();

        Assert.Same(dispatcher, provider.GetRequiredService<CometyDispatcher>());
        Assert.Same(TimeProvider.System, dispatcher.TimeProvider);
        Assert.IsType<InMemoryEventLog>(provider.GetRequiredService<IEventLog>());
        Assert.Equal(new CometyOptions().HeartbeatTimeout, dispatcher.Options.HeartbeatTimeout);
    }

    [Fact]
    public void A_Dispatcher_the_application_registered_is_kept()
    {
        using var own = new CometyDispatcher();
        var services = new ServiceCollection().AddSingleton(own).AddComety();
        using var provider = services.BuildServiceProvider(Validating);

        Assert.Same(own, provider.GetRequiredService<CometyDispatcher>());
        Assert.Single(services, d => d.ServiceType == typeof(CometyDispatcher));
    }

    [Fact]
    public void A_TimeProvider_and_an_event_log_the_application_registered_are_kept_and_given_to_the_dispatcher()
    {
        var clock = new FakeTimeProvider();
        var log = new InMemoryEventLog();
        var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(clock)
            .AddSingleton<IEventLog>(log)
            .AddComety();
        using var provider = services.BuildServiceProvider(Validating);

        var dispatcher = provider.GetRequiredService<CometyDispatcher>();

        Assert.Same(clock, provider.GetRequiredService<TimeProvider>());
        Assert.Same(clock, dispatcher.TimeProvider);
        Assert.Same(log, provider.GetRequiredService<IEventLog>());
    }

    [Fact]
    public void Adding_Comety_twice_registers_each_service_once()
    {
        var services = new ServiceCollection().AddComety().AddComety(o => o.MaxBacklog = 9);
        using var provider = services.BuildServiceProvider(Validating);

        Assert.Single(provider.GetServices<IValidateOptions<CometyOptions>>());
        Assert.Single(provider.GetServices<CometyDispatcher>());
        Assert.Single(provider.GetServices<TimeProvider>());
        Assert.Equal(9, provider.GetRequiredService<IOptions<CometyOptions>>().Value.MaxBacklog);
    }

    [Fact]
    public async Task Starting_the_application_logs_one_information_line_that_Comety_serves_with_its_settings()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { HeartbeatTimeout = TimeSpan.FromSeconds(7), MaxBacklog = 50 }).Bounded();

        var started = Assert.Single(host.Logs.Entries, e => e.EventName == "CometyStarted");
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Information, started.Level);
        Assert.Equal(typeof(CometyDispatcher).FullName, started.Category);
        Assert.Equal(
            "Comety is serving: heartbeat timeout 7 s, poll timeout 10 s (at most 300 s, held for 0.5 of it), backlog 50 events per user, 100000 retained in all, timeouts announced: False.",
            started.Message);
    }

    [Fact]
    public async Task Comety_also_starts_in_a_plain_service_collection_without_logging()
    {
        using var provider = new ServiceCollection().AddComety().BuildServiceProvider(Validating);

        foreach (var service in provider.GetServices<IHostedService>())
        {
            await service.StartAsync(CancellationToken.None).Bounded();
        }

        Assert.Single(provider.GetServices<IHostedService>().OfType<Comety.Internal.CometyStartupLog>());
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
