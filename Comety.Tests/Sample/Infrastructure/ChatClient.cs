using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Comety.Tests.Sample.Infrastructure;

/// <summary>
/// One person in the sample chat without a browser: an <see cref="HttpClient"/> with its own
/// cookies (its session), which fills the forms as a page does (with their antiforgery tokens),
/// sends what a page's script sends, and polls the updates URL with the page's position
/// (docs/PROTOCOL.md). Redirects are not followed, so that each answer can be checked.
/// </summary>
public sealed partial class ChatClient : IDisposable
{
    private const string UpdatesPath = "chat/updates";
    private readonly HttpClient _http;
    private string? _token;
    private string? _channel;

    public ChatClient(Uri baseAddress)
    {
        _http = new HttpClient(new SocketsHttpHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseCookies = true })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    /// <summary>Creates a room with the room list's form; returns its slug.</summary>
    public async Task<string> CreateRoomAsync(string name)
    {
        var token = Token(await GetPageAsync("/"));
        using var answer = await _http.PostAsync("/rooms", Form(("name", name), ("__RequestVerificationToken", token)));
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        return answer.Headers.Location!.OriginalString.Split('/')[^1];
    }

    /// <summary>Joins a room with its join form and opens the room's page; returns the position the page was rendered at.</summary>
    public async Task<long> JoinAsync(string slug, string name)
    {
        var token = Token(await GetPageAsync($"/rooms/{slug}"));
        using (var answer = await _http.PostAsync($"/rooms/{slug}/join", Form(("name", name), ("__RequestVerificationToken", token))))
        {
            Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        }

        var page = await GetPageAsync($"/rooms/{slug}");
        Assert.Contains("class=\"chat\"", page, StringComparison.Ordinal);
        _token = Token(page);
        _channel = "room:" + slug;
        return Sequences().Matches(page).Select(static m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Max();
    }

    /// <summary>Says <paramref name="text"/> in the room, as the composer does; returns the status of the answer (204 when the server took it).</summary>
    public async Task<HttpStatusCode> SayAsync(string text)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, UpdatesPath)
        {
            Content = new StringContent(JsonSerializer.Serialize(new { type = "message", channel = _channel, data = new { text } }), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("RequestVerificationToken", _token);
        try
        {
            using var answer = await _http.SendAsync(request);
            return answer.StatusCode;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    /// <summary>One long poll from <paramref name="position"/>: the status, and for a 200 its lastId and the (seq, event args) of its events.</summary>
    public async Task<(HttpStatusCode Status, long LastId, IReadOnlyList<(long Sequence, JsonElement Args)> Events)> PollAsync(long position, int timeoutSeconds, CancellationToken cancellationToken)
    {
        try
        {
            using var answer = await _http.GetAsync(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{UpdatesPath}?timeout={timeoutSeconds}&confirm={position}"), cancellationToken);
            if (answer.StatusCode != HttpStatusCode.OK)
            {
                return (answer.StatusCode, position, []);
            }

            using var body = JsonDocument.Parse(await answer.Content.ReadAsStringAsync(cancellationToken));
            var events = new List<(long, JsonElement)>();
            if (body.RootElement.GetProperty("events") is { ValueKind: JsonValueKind.Array } list)
            {
                foreach (var e in list.EnumerateArray())
                {
                    events.Add((e[2].GetInt64(), e[1].Clone()));
                }
            }

            return (HttpStatusCode.OK, body.RootElement.GetProperty("lastId").GetInt64(), events);
        }
        catch (HttpRequestException)
        {
            return (0, position, []);
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task<string> GetPageAsync(string path)
    {
        using var answer = await _http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return await answer.Content.ReadAsStringAsync();
    }

    private static string Token(string page) =>
        AntiforgeryField().Match(page) is { Success: true } match ? WebUtility.HtmlDecode(match.Groups[1].Value) : throw new Xunit.Sdk.XunitException("The page has no antiforgery token.");

    private static FormUrlEncodedContent Form(params (string Key, string Value)[] fields) =>
        new(fields.Select(static f => new KeyValuePair<string, string>(f.Key, f.Value)));

    [GeneratedRegex("<input[^>]*name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    [GeneratedRegex("data-seq=\"(\\d+)\"")]
    private static partial Regex Sequences();
}
