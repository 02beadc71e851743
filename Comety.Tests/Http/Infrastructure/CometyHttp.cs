using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Comety.Tests.Infrastructure;

namespace Comety.Tests.Http.Infrastructure;

/// <summary>Polls, sends and checks answers of the test application's updates URL, <c>/test/updates</c>, over HTTP.</summary>
internal static class CometyHttp
{
    public const string UpdatesUrl = "/test/updates";

    public const string AntiforgeryHeader = "RequestVerificationToken";

    public static Task<HttpResponseMessage> PollAsync(this HttpClient client, string query, CancellationToken cancellationToken = default) =>
        client.GetAsync(new Uri($"{UpdatesUrl}?{query}", UriKind.Relative), cancellationToken);

    /// <summary>Polls and reads the 200 answer; fails with the body when the status is anything else.</summary>
    public static async Task<PollAnswer> PollOkAsync(this HttpClient client, string query)
    {
        using var response = await client.PollAsync(query).Bounded();
        return await ReadAnswerAsync(response);
    }

    public static async Task<PollAnswer> ReadAnswerAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync().Bounded();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Expected 200, got {(int)response.StatusCode}: {body}");
        return PollAnswer.Parse(body);
    }

    public static Task<HttpResponseMessage> SendJsonAsync(this HttpClient client, string json, string? antiforgeryToken = null) =>
        client.SendBodyAsync(new StringContent(json, Encoding.UTF8, "application/json"), antiforgeryToken);

    public static Task<HttpResponseMessage> SendBodyAsync(this HttpClient client, HttpContent content, string? antiforgeryToken = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(UpdatesUrl, UriKind.Relative))
        {
            Content = content,
            Version = client.DefaultRequestVersion,
            VersionPolicy = client.DefaultVersionPolicy,
        };
        if (antiforgeryToken is not null)
        {
            request.Headers.Add(AntiforgeryHeader, antiforgeryToken);
        }

        return client.SendAsync(request);
    }

    /// <summary>Sends and expects 204 with no body; fails with the body when the status is anything else.</summary>
    public static async Task SendNoContentAsync(this HttpClient client, string json, string? antiforgeryToken = null)
    {
        using var response = await client.SendJsonAsync(json, antiforgeryToken).Bounded();
        var body = await response.Content.ReadAsStringAsync().Bounded();
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"Expected 204, got {(int)response.StatusCode}: {body}");
        Assert.Empty(body);
    }

    /// <summary>
    /// Checks that a response is the error the protocol promises: the status, an
    /// <c>application/problem+json</c> body with a readable title, and no stack trace.
    /// </summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync().Bounded();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");

        // Every answer of the updates URL, errors too, is kept by no cache and shows no stack trace.
        Assert.True(response.IsNoStore(), $"Cache headers: {response.Headers.CacheControl}, Pragma {response.Headers.Pragma}");
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);

        using var document = JsonDocument.Parse(body);
        var problem = document.RootElement.Clone();
        Assert.Equal(JsonValueKind.Object, problem.ValueKind);
        Assert.True(problem.TryGetProperty("title", out var title) && title.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(title.GetString()), $"No title: {body}");
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    public static string Title(this JsonElement problem) => problem.GetProperty("title").GetString()!;

    public static string Detail(this JsonElement problem) => problem.GetProperty("detail").GetString()!;

    public static bool IsNoStore(this HttpResponseMessage response) =>
        response.Headers.CacheControl is CacheControlHeaderValue { NoStore: true, NoCache: true, MustRevalidate: true }
        && response.Headers.Pragma.ToString() == "no-cache"
        && response.Content.Headers.TryGetValues("Expires", out var expires) && expires.SequenceEqual(["0"]);

    /// <summary>Waits, with the tests' bound, until the code under test has done something it does on another thread.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < TestEvents.Bound, $"Gave up waiting until {what}.");
            await Task.Delay(10);
        }
    }

    /// <summary>Waits until <paramref name="count"/> polls are parked in the dispatcher.</summary>
    public static Task WaitUntilPollsWaitAsync(this TestHost host, int count = 1) =>
        WaitUntilAsync(() => host.Dispatcher.WaitingPollCount == count, $"{count} poll(s) wait");

    public static bool Logged(this TestHost host, string eventName, string? containing = null) =>
        host.Logs.Entries.Any(e => e.EventName == eventName && (containing is null || e.Message.Contains(containing, StringComparison.Ordinal)));
}
