using System.Net;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;

namespace Comety.Tests.Http;

/// <summary>
/// Sends in an application with antiforgery (MVC with views has it): the token travels in the
/// <c>RequestVerificationToken</c> header, read from the page as the script reads it.
/// </summary>
public sealed class SendAntiforgeryTests
{
    private const string Subscribe = """{"type": "subscribe", "channel": "room-1"}""";

    [Fact]
    public async Task The_page_renders_the_header_name_and_a_token()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        using var client = host.CreateClient();

        var page = await TestPage.OpenAsync(client, "ann");

        Assert.Equal(CometyHttp.AntiforgeryHeader, page.AntiforgeryHeader);
        Assert.False(string.IsNullOrEmpty(page.AntiforgeryToken));
    }

    [Fact]
    public async Task A_send_with_the_pages_token_is_accepted()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        using var client = host.CreateClient();
        var page = await TestPage.OpenAsync(client, "ann");

        await client.SendNoContentAsync(Subscribe, page.AntiforgeryToken);

        Assert.Equal(["room-1"], host.Dispatcher.GetChannels("ann"));
    }

    [Fact]
    public async Task A_send_without_the_token_is_403()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        using var client = host.CreateClient();
        await TestPage.OpenAsync(client, "ann");

        using var response = await client.SendJsonAsync(Subscribe).Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("antiforgery", problem.Title(), StringComparison.OrdinalIgnoreCase);
        Assert.Empty(host.Dispatcher.GetChannels("ann"));
    }

    [Fact]
    public async Task A_send_with_a_wrong_token_is_403()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        using var client = host.CreateClient();
        var page = await TestPage.OpenAsync(client, "ann");

        var token = page.AntiforgeryToken!;
        var wrong = token[..^4] + (token.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");

        using var response = await client.SendJsonAsync(Subscribe, wrong).Bounded();

        await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Empty(host.Dispatcher.GetChannels("ann"));
    }

    [Fact]
    public async Task A_token_without_the_antiforgery_cookie_it_pairs_with_is_403()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        using var browser = host.CreateClient();
        var page = await TestPage.OpenAsync(browser, "ann");
        using var forger = host.CreateClient("ann");

        using var response = await forger.SendJsonAsync(Subscribe, page.AntiforgeryToken).Bounded();

        await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Empty(host.Dispatcher.GetChannels("ann"));
    }

    [Fact]
    public async Task With_ValidateAntiforgery_off_no_token_is_needed_and_none_is_rendered()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Configure = o => o.ValidateAntiforgery = false }).Bounded();
        using var client = host.CreateClient();
        var page = await TestPage.OpenAsync(client, "ann");

        await client.SendNoContentAsync(Subscribe);

        Assert.Null(page.AntiforgeryToken);
        Assert.Equal(["room-1"], host.Dispatcher.GetChannels("ann"));
    }
}
