using System.Net;

namespace Comety.LoadTest;

/// <summary>The HTTP client every simulated-browser fleet shares with its own clients: one connection per request in flight.</summary>
internal static class LoadHttp
{
    public static HttpClient CreateClient(Uri server) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = int.MaxValue,
        UseCookies = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        ConnectTimeout = TimeSpan.FromSeconds(30),
    })
    {
        BaseAddress = server,
        Timeout = Timeout.InfiniteTimeSpan,
    };
}
