using System.Net;
using System.Text;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Comety.Tests.Http;

/// <summary>
/// Sends a browser can make but the protocol does not take: each is a 4xx with a problem body,
/// logged at Debug, and never reaches the form reader, the dispatcher or the error log.
/// </summary>
public sealed class HostileSendTests
{
    public static TheoryData<string, string?> NotJson => new()
    {
        { "a form with a key over the form reader's limit", "application/x-www-form-urlencoded" },
        { "a multipart form", "multipart/form-data; boundary=x" },
        { "no content type", null },
        { "JSON in another charset", "application/json; charset=iso-8859-1" },
        { "plain text", "text/plain" },
    };

    [Theory]
    [MemberData(nameof(NotJson))]
    public async Task A_send_that_is_not_utf8_json_is_415_before_antiforgery_reads_the_body(string what, string? contentType)
    {
        await using var host = await TestHost.StartAsync().Bounded();
        using var client = host.CreateClient();
        await TestPage.OpenAsync(client, "ann");
        var body = new ByteArrayContent(Encoding.ASCII.GetBytes(new string('k', 4096) + "=v"));
        if (contentType is not null)
        {
            body.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        using var response = await client.SendBodyAsync(body).Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("application/json", problem.Detail(), StringComparison.Ordinal);
        AssertLoggedAsClientMistake(host, what);
    }

    [Fact]
    public async Task A_json_send_with_an_unreadable_antiforgery_token_is_403()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        using var client = host.CreateClient();
        await TestPage.OpenAsync(client, "ann");

        using var response = await client.SendJsonAsync("""{"type": "subscribe", "channel": "room-1"}""", new string('%', 3000)).Bounded();

        await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Empty(host.Dispatcher.GetChannels("ann"));
        AssertLoggedAsClientMistake(host, "an unreadable token");
    }

    [Fact]
    public async Task A_send_whose_content_length_is_over_the_limit_is_413_before_antiforgery_runs()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { MaxMessageBytes = 100 }).Bounded();
        using var client = host.CreateClient();
        await TestPage.OpenAsync(client, "ann");

        using var response = await client.SendJsonAsync($$"""{"type": "message", "data": "{{new string('x', 200)}}"}""").Bounded();

        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        AssertLoggedAsClientMistake(host, "an oversized body without a token");
    }

    private static void AssertLoggedAsClientMistake(TestHost host, string what)
    {
        var entries = host.Logs.Entries.ToArray();
        Assert.Contains(entries, e => e.EventName == "RequestRejected" && e.Level == LogLevel.Debug);
        var serious = entries.Where(e => e.Level >= LogLevel.Warning || (e.Exception is not null && e.Category.StartsWith("Comety", StringComparison.Ordinal))).ToArray();
        Assert.True(serious.Length == 0, $"{what}: " + string.Join("; ", serious.Select(e => $"{e.Category} {e.Level} {e.EventName} {e.Exception?.GetType().Name}")));
    }
}
