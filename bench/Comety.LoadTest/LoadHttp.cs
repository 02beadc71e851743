using System.Net;

namespace Comety.LoadTest;

/// <summary>The HTTP client every simulated-browser fleet shares with its own clients: one connection per request in flight.</summary>
internal static class LoadHttp
{
    /// <summary>One shared client for a fleet, its base address the server's.</summary>
    /// <param name="server">The server's base address.</param>
    /// <param name="sources">The addresses new connections come from, in turn (none: the kernel's choice).</param>
    public static HttpClient CreateClient(Uri server, SourceAddresses sources) => new(CreateHandler(sources))
    {
        BaseAddress = server,
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>The handler behind <see cref="CreateClient"/>, also what a fleet's WebSockets connect through.</summary>
    public static SocketsHttpHandler CreateHandler(SourceAddresses sources) => new()
    {
        MaxConnectionsPerServer = int.MaxValue,
        UseCookies = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        ConnectTimeout = TimeSpan.FromSeconds(30),
        ConnectCallback = sources.ConnectCallback,
    };
}
