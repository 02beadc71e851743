using Comety.LoadTest;
using Comety.LoadTest.SignalRServer;
using Microsoft.AspNetCore.Http.Connections;

// The SignalR side of the load test: a minimal application with one hub at /hub, on the one
// transport --transport names (LongPolling, the default, or WebSockets), with SignalR's default
// options, and the shared /bench control endpoints. Run by Comety.LoadTest; binds where --urls says.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);

var transportName = builder.Configuration["transport"] ?? nameof(HttpTransportType.LongPolling);
HttpTransportType transport;
if (string.Equals(transportName, nameof(HttpTransportType.LongPolling), StringComparison.OrdinalIgnoreCase))
{
    transport = HttpTransportType.LongPolling;
}
else if (string.Equals(transportName, nameof(HttpTransportType.WebSockets), StringComparison.OrdinalIgnoreCase))
{
    transport = HttpTransportType.WebSockets;
}
else
{
    await Console.Error.WriteLineAsync($"Unknown --transport '{transportName}': use LongPolling or WebSockets.");
    return 2;
}

builder.Services.AddSignalR();
builder.Services.AddSingleton(new BenchHubCounters(reportConnected: transport == HttpTransportType.WebSockets));
builder.Services.AddSingleton<SignalRPublisher>();

var app = builder.Build();
if (transport == HttpTransportType.WebSockets)
{
    app.UseWebSockets();
}
else
{
    // With long polling every waiting client is a GET on /hub in flight; that is what /bench/status reports.
    app.UseInFlightCounter("/hub");
}

app.MapHub<BenchHub>("/hub", options => options.Transports = transport);
app.MapBenchControl(app.Services.GetRequiredService<SignalRPublisher>());
await app.RunAsync();
return 0;
