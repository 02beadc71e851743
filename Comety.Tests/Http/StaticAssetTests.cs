using System.Net;
using System.Text.RegularExpressions;
using Comety.Tests.Infrastructure;

namespace Comety.Tests.Http;

public sealed class StaticAssetTests
{
    [Theory]
    [InlineData("/_content/Comety.Razor/comety.js", "Comety.create")]
    [InlineData("/_content/Comety.Razor/comety.mjs", "export const create")]
    [InlineData("/_content/Comety.Razor/lib/jquery/dist/jquery.min.js", "jQuery")]
    [InlineData("/_content/Comety.Razor/lib/jquery/dist/jquery.js", "jQuery JavaScript Library")]
    public async Task The_library_serves_its_script_and_jQuery_as_static_web_assets(string path, string content)
    {
        await using var host = await TestHost.StartAsync();
        using var client = host.CreateClient();

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative)).Bounded();
        var text = await response.Content.ReadAsStringAsync().Bounded();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(content, text, StringComparison.Ordinal);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_content_hashed_script_url_a_page_links_is_served_as_the_script()
    {
        await using var host = await TestHost.StartAsync();
        using var client = host.CreateClient();
        var html = await client.GetStringAsync(new Uri("/test/page?user=ann", UriKind.Relative)).Bounded();
        var src = Regex.Match(html, "src=\"(?<src>/_content/Comety.Razor/comety.js[^\"]*)\"").Groups["src"].Value;

        using var response = await client.GetAsync(new Uri(src, UriKind.Relative)).Bounded();
        var text = await response.Content.ReadAsStringAsync().Bounded();

        Assert.Equal($"/_content/Comety.Razor/comety.js?v={ScriptVersion.CometyJs}", src);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Comety.create", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_test_page_renders_the_script_elements()
    {
        await using var host = await TestHost.StartAsync();
        using var client = host.CreateClient();

        var html = await client.GetStringAsync(new Uri("/test/page?user=ann", UriKind.Relative)).Bounded();

        Assert.Contains($"/_content/Comety.Razor/comety.js?v={ScriptVersion.CometyJs}", html, StringComparison.Ordinal);
        Assert.Contains("Comety.create(typeof jQuery === \"undefined\" ? undefined : jQuery, ", html, StringComparison.Ordinal);
        Assert.True(host.Dispatcher.IsRegistered("ann"));
    }
}
