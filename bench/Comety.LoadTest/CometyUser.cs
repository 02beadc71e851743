using System.Net;
using System.Text;

namespace Comety.LoadTest;

/// <summary>
/// A simulated browser's user in the Comety load-test application: registered through the
/// application (<c>POST /register</c>, which sets its cookie), subscribed to its room
/// (<c>POST /updates</c>), and logged out (<c>POST /logout</c>) when it leaves. Both Comety
/// fleets, polling and streaming, start and end their clients this way.
/// </summary>
internal sealed record CometyUser(int Index, string Cookie)
{
    /// <summary>Registers client <paramref name="index"/> and subscribes it to room <c>index % Rooms.Count</c>.</summary>
    /// <param name="servers">Where each request goes (several servers on one shared log: one at random each time); null: the client's base address.</param>
    public static async Task<CometyUser> RegisterAsync(HttpClient http, int index, CancellationToken cancellationToken, ServerChoice? servers = null)
    {
        using var register = await http.PostAsync(ServerChoice.Resolve(servers, "register"), null, cancellationToken);
        register.EnsureSuccessStatusCode();
        var setCookie = register.Headers.GetValues("Set-Cookie").First();
        var user = new CometyUser(index, setCookie[..setCookie.IndexOf(';', StringComparison.Ordinal)]);

        using var subscribe = new HttpRequestMessage(HttpMethod.Post, ServerChoice.Resolve(servers, "updates"))
        {
            Content = new StringContent($$"""{"type":"subscribe","channel":"{{Rooms.Name(index % Rooms.Count)}}"}""", Encoding.UTF8, "application/json"),
        };
        subscribe.Headers.Add("Cookie", user.Cookie);
        using var subscribed = await http.SendAsync(subscribe, cancellationToken);
        if (subscribed.StatusCode != HttpStatusCode.NoContent)
        {
            throw new InvalidOperationException($"Subscribing client {index} answered {(int)subscribed.StatusCode}: {await subscribed.Content.ReadAsStringAsync(cancellationToken)}");
        }

        return user;
    }

    /// <summary>Leaves the way the application lets a user leave, so that the server forgets them; 64 at a time, 30 s each at most.</summary>
    public static Task LogoutAsync(HttpClient http, IEnumerable<CometyUser> users, ServerChoice? servers = null) =>
        Parallel.ForEachAsync(users, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (user, ct) =>
        {
            using var logout = new HttpRequestMessage(HttpMethod.Post, ServerChoice.Resolve(servers, "logout"));
            logout.Headers.Add("Cookie", user.Cookie);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            using var response = await http.SendAsync(logout, cts.Token);
        });
}

/// <summary>Several servers on one shared log: each request goes to one of them at random (no affinity).</summary>
internal sealed class ServerChoice(IReadOnlyList<Uri> servers)
{
    /// <summary>A server's URL for <paramref name="relative"/>: relative (the client's base address) without a choice or with one server.</summary>
    public static Uri Resolve(ServerChoice? choice, string relative) => Resolve(choice, relative, out _);

    /// <summary>The same, and which server it chose (0 without a choice or with one server).</summary>
    public static Uri Resolve(ServerChoice? choice, string relative, out int server)
    {
        if (choice is null || choice._servers.Count == 1)
        {
            server = 0;
            return new Uri(relative, UriKind.Relative);
        }

        server = Random.Shared.Next(choice._servers.Count);
        return new Uri(choice._servers[server], relative);
    }

    private readonly IReadOnlyList<Uri> _servers = servers;
}
