// The sample chat's load balancer on a cluster (eng/cluster.sh): YARP sends each request to the
// next healthy instance in turn (round robin), with no session affinity, so that consecutive
// polls, sends and page loads of one browser land on different servers. Usage:
//
//   dotnet Comety.Cluster.Proxy.dll --urls http://127.0.0.1:8080 \
//       --Destinations http://127.0.0.1:5001,http://127.0.0.1:5002
//
// Each instance is probed at /health twice a second; one that fails a probe gets no requests
// until it answers again (a killed instance costs the requests in flight, then a few hundred ms).
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

var builder = WebApplication.CreateBuilder(args);
var destinations = (builder.Configuration["Destinations"] ?? string.Empty)
    .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
if (destinations.Length == 0)
{
    Console.Error.WriteLine("Name the chat's instances: --Destinations http://127.0.0.1:5001,http://127.0.0.1:5002");
    return 2;
}

var route = new RouteConfig
{
    RouteId = "chat",
    ClusterId = "chat",
    Match = new RouteMatch { Path = "{**catch-all}" },
};
var cluster = new ClusterConfig
{
    ClusterId = "chat",
    LoadBalancingPolicy = LoadBalancingPolicies.RoundRobin,
    // No SessionAffinity: any instance answers any request of any browser.
    HttpRequest = new ForwarderRequestConfig
    {
        // Above a long poll's hold (the client's timeout, at most 300 s) and a stream's duration (60 s).
        ActivityTimeout = TimeSpan.FromMinutes(6),
        // Each write of an instance goes on to the browser at once: streams flow, polls are not held.
        AllowResponseBuffering = false,
    },
    HealthCheck = new HealthCheckConfig
    {
        Active = new ActiveHealthCheckConfig
        {
            Enabled = true,
            Interval = TimeSpan.FromMilliseconds(500),
            Timeout = TimeSpan.FromSeconds(2),
            Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
            Path = "/health",
        },
    },
    Metadata = new Dictionary<string, string> { ["ConsecutiveFailuresHealthPolicy.Threshold"] = "1" },
    Destinations = destinations
        .Select((address, index) => (Name: $"chat-{index + 1}", Address: address))
        .ToDictionary(static d => d.Name, static d => new DestinationConfig { Address = d.Address }),
};

builder.Services.AddReverseProxy().LoadFromMemory([route], [cluster]);
var app = builder.Build();
app.MapReverseProxy();
await app.RunAsync();
return 0;
