using System.Text.Json;
using System.Text.RegularExpressions;
using Comety.Tests.Infrastructure;

namespace Comety.Tests.Http.Infrastructure;

/// <summary>
/// The settings <c>/test/page</c> renders for its script, read the way the browser gets them: the
/// page registers the user and sets its cookies (user, antiforgery) in the client's cookie container.
/// </summary>
internal sealed partial record TestPage(string? AntiforgeryHeader, string? AntiforgeryToken, long? Confirm)
{
    public static async Task<TestPage> OpenAsync(HttpClient client, string user)
    {
        var html = await client.GetStringAsync(new Uri($"/test/page?user={Uri.EscapeDataString(user)}", UriKind.Relative)).Bounded();
        var match = CreateCall().Match(html);
        Assert.True(match.Success, $"The page has no Comety.create call: {html}");

        // The settings are JavaScript-encoded JSON: \uXXXX escapes, which a JSON reader decodes.
        using var settings = JsonDocument.Parse(match.Groups["settings"].Value);
        var root = settings.RootElement;
        long? confirm = root.TryGetProperty("confirm", out var c) ? c.GetInt64() : null;
        if (!root.TryGetProperty("antiforgery", out var antiforgery))
        {
            return new TestPage(null, null, confirm);
        }

        return new TestPage(antiforgery.GetProperty("header").GetString(), antiforgery.GetProperty("token").GetString(), confirm);
    }

    [GeneratedRegex(@"Comety\.create\(typeof jQuery === ""undefined"" \? undefined : jQuery, (?<settings>\{.*\})\);")]
    private static partial Regex CreateCall();
}
