using System.Net;
using System.Text.Json;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using Comety.Tests.Infrastructure;
using Comety.Tests.Razor.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Razor;

/// <summary>
/// Real views on Kestrel: <c>&lt;comety-script&gt;</c>, <c>Component.InvokeAsync("CometyScript", …)</c> and
/// <c>&lt;vc:comety-script&gt;</c> compiled by Razor, rendered with the application's own encoders.
/// </summary>
public sealed class CometyScriptPageTests
{
    private const string Hostile = "</script><!--<script>\"'\\\u2028-->";

    private static readonly string[] Regions = ["tag-helper", "invoke", "vc-tag"];

    [Theory]
    [InlineData("url=/x&apiName=a", 3)]
    [InlineData("controller=RazorTestsUpdates&room=lobby&apiName=chat&jqueryName=$&includeJQuery=true&autoStart=true&timeout=4.5&nonce=n0nce", 4)]
    [InlineData("url=/x&renderApi=false&includeJQuery=true", 2)]
    [InlineData("url=/x&renderApi=false&renderTiming=false", 0)]
    [InlineData("url=/x&renderTiming=false&resumeAfter=0", 2)]
    public async Task Tag_helper_and_both_forms_of_the_view_component_render_the_same_scripts(string query, int count)
    {
        await using var host = await TestHost.StartAsync();
        using var client = host.CreateClient();

        var page = await GetPageAsync(client, "/razor-tests/parity?" + query);

        var regions = Regions.Select(id => RenderedScripts.Within(page.GetElementById(id)!)).ToList();
        Assert.All(regions, region => Assert.Equal(count, region.Scripts.Count));
        Assert.All(regions, region => Assert.Equal(regions[0].Html, region.Html));
        Assert.Equal(3 * count, page.Scripts.Length);
    }

    [Fact]
    public async Task The_routed_url_and_resume_after_come_out_the_same_from_all_three()
    {
        await using var host = await TestHost.StartAsync();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        await host.Dispatcher.BroadcastAsync("test", Args("chat")).Bounded();
        await host.Dispatcher.BroadcastAsync("test", Args("chat")).Bounded();
        using var client = host.CreateClient();

        var page = await GetPageAsync(client, "/razor-tests/parity?controller=RazorTestsUpdates&room=lobby&resumeAfter=1");

        foreach (var id in Regions)
        {
            var settings = RenderedScripts.Within(page.GetElementById(id)!).Settings;
            Assert.Equal("/razor-tests/lobby/updates", settings.GetProperty("url").GetString());
            Assert.Equal(1, settings.GetProperty("confirm").GetInt64());
            Assert.Equal("RequestVerificationToken", settings.GetProperty("antiforgery").GetProperty("header").GetString());
        }
    }

    [Fact]
    public async Task The_transport_comes_out_the_same_from_all_three()
    {
        await using var host = await TestHost.StartAsync();
        using var client = host.CreateClient();

        var page = await GetPageAsync(client, "/razor-tests/parity?url=/x&transport=poll");

        var regions = Regions.Select(id => RenderedScripts.Within(page.GetElementById(id)!)).ToList();
        Assert.All(regions, region => Assert.Equal("poll", region.Settings.GetProperty("transport").GetString()));
        Assert.All(regions, region => Assert.Equal(regions[0].Html, region.Html));
    }

    [Fact]
    public async Task Hostile_values_from_a_request_stay_inside_their_scripts_in_all_three()
    {
        await using var host = await TestHost.StartAsync();
        using var client = host.CreateClient();

        var page = await GetPageAsync(client, $"/razor-tests/parity?url={Uri.EscapeDataString(Hostile)}&nonce={Uri.EscapeDataString(Hostile)}&includeJQuery=true");

        Assert.Equal(12, page.Scripts.Length);
        Assert.Equal(Regions, page.Body!.Children.Select(child => child.Id));
        foreach (var id in Regions)
        {
            var region = RenderedScripts.Within(page.GetElementById(id)!);
            Assert.Equal(Hostile, region.Settings.GetProperty("url").GetString());
            Assert.All(region.Scripts, script => Assert.Equal(Hostile, script.GetAttribute("nonce")));
            Assert.All(region.Scripts, script => Assert.DoesNotContain('<', script.Text));
            Assert.Equal(Hostile, Assert.Single(region.WrittenScripts).GetAttribute("nonce"));
        }
    }

    [Fact]
    public async Task A_page_written_with_literal_attributes_links_scripts_the_server_serves_and_an_updates_url_that_answers()
    {
        await using var host = await TestHost.StartAsync();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        await host.Dispatcher.BroadcastAsync("test", Args("chat")).Bounded();
        await host.Dispatcher.BroadcastAsync("test", Args("chat")).Bounded();
        using var client = host.CreateClient();

        var page = await GetPageAsync(client, "/razor-tests/page?user=ann");

        var head = RenderedScripts.Within(page.Head!);
        var body = RenderedScripts.Within(page.Body!);
        Assert.Equal(["timing comety"], head.Kinds);
        Assert.Equal(
            ["if-no-jquery src /_content/Comety.Razor/lib/jquery/dist/jquery.min.js", $"src /_content/Comety.Razor/comety.js?v={ScriptVersion.CometyJs}", "create comety jQuery"],
            body.Kinds);
        Assert.All(page.Scripts, script => Assert.Equal("n0nce", script.GetAttribute("nonce")));
        var settings = body.Settings;
        Assert.Equal("/razor-tests/lobby/updates", settings.GetProperty("url").GetString());
        Assert.Equal(4, settings.GetProperty("timeout").GetDouble());
        Assert.True(settings.GetProperty("autoStart").GetBoolean());
        Assert.Equal(2, settings.GetProperty("confirm").GetInt64());
        Assert.False(string.IsNullOrEmpty(settings.GetProperty("antiforgery").GetProperty("token").GetString()));
        await AssertServedScriptsAsync(client, page);

        using var poll = await client.GetAsync(new Uri($"{settings.GetProperty("url").GetString()}?timeout=0&confirm=2", UriKind.Relative)).Bounded();
        Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
        using var answer = JsonDocument.Parse(await poll.Content.ReadAsStringAsync().Bounded());
        Assert.Equal(2, answer.RootElement.GetProperty("lastId").GetInt64());
    }

    [Fact]
    public async Task Under_a_path_base_the_script_paths_and_the_routed_url_carry_it()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions
        {
            ConfigureServices = services => services.AddSingleton<IStartupFilter>(new PathBaseStartupFilter("/base")),
        });
        using var client = host.CreateClient();

        var page = await GetPageAsync(client, "/base/razor-tests/page?user=ann");

        var body = RenderedScripts.Within(page.Body!);
        Assert.Equal(
            ["if-no-jquery src /base/_content/Comety.Razor/lib/jquery/dist/jquery.min.js", $"src /base/_content/Comety.Razor/comety.js?v={ScriptVersion.CometyJs}", "create comety jQuery"],
            body.Kinds);
        Assert.Equal("/base/razor-tests/lobby/updates", body.Settings.GetProperty("url").GetString());
        await AssertServedScriptsAsync(client, page);
    }

    [Fact]
    public async Task The_script_url_carries_the_content_hash_of_the_comety_js_it_serves()
    {
        await using var host = await TestHost.StartAsync();
        using var client = host.CreateClient();

        var page = await GetPageAsync(client, "/razor-tests/page?user=ann");

        var src = CometyJsSource(page);
        Assert.StartsWith("/_content/Comety.Razor/comety.js?v=", src, StringComparison.Ordinal);
        using var response = await client.GetAsync(new Uri(src, UriKind.Relative)).Bounded();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ScriptVersion.Of(await response.Content.ReadAsByteArrayAsync().Bounded()), ScriptVersion.In(src));
    }

    [Fact]
    public async Task The_hash_in_the_script_url_changes_when_comety_js_changes()
    {
        // Two deployments whose web roots hold different comety.js files (as before and after an upgrade).
        var versions = new List<string?>();
        foreach (var content in new[] { "/* comety.js, one version */", "/* comety.js, the next */" })
        {
            using var webRoot = new TemporaryWebRoot();
            webRoot.Write("_content/Comety.Razor/comety.js", content);
            await using var host = await TestHost.StartAsync(new TestHostOptions { ConfigureApp = app => webRoot.Serve(app.Environment) });
            using var client = host.CreateClient();

            var src = CometyJsSource(await GetPageAsync(client, "/razor-tests/page?user=ann"));

            Assert.Equal(ScriptVersion.Of(System.Text.Encoding.UTF8.GetBytes(content)), ScriptVersion.In(src));
            versions.Add(ScriptVersion.In(src));
        }

        Assert.NotEqual(versions[0], versions[1]);
    }

    [Fact]
    public async Task Where_the_web_root_has_no_comety_js_the_script_url_is_the_plain_one()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions
        {
            ConfigureApp = app => app.Environment.WebRootFileProvider = new Microsoft.Extensions.FileProviders.NullFileProvider(),
        });
        using var client = host.CreateClient();

        var page = await GetPageAsync(client, "/razor-tests/page?user=ann");

        Assert.Equal("/_content/Comety.Razor/comety.js", CometyJsSource(page));
    }

    private static string CometyJsSource(IHtmlDocument page) =>
        Assert.Single(page.Scripts, script => script.Source?.Contains("/comety.js", StringComparison.Ordinal) == true).Source!;

    private static async Task<IHtmlDocument> GetPageAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative)).Bounded();
        var html = await response.Content.ReadAsStringAsync().Bounded();
        Assert.True(response.IsSuccessStatusCode, $"{path} answered {(int)response.StatusCode}: {html}");
        return new HtmlParser().ParseDocument(html);
    }

    private static async Task AssertServedScriptsAsync(HttpClient client, IHtmlDocument page)
    {
        var sources = page.Scripts.Where(script => script.HasAttribute("src")).Select(script => script.Source!).ToList();
        Assert.NotEmpty(sources);
        foreach (var source in sources)
        {
            using var response = await client.GetAsync(new Uri(source, UriKind.Relative)).Bounded();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        }
    }
}
