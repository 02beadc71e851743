using System.Net;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using Comety.Tests.Packaging.Infrastructure;
using Comety.Tests.Razor.Infrastructure;

namespace Comety.Tests.Packaging;

/// <summary>
/// The packages that <c>dotnet pack</c> makes, used outside this solution: what they hold, and an
/// MVC application that references nothing but <c>Comety.Razor</c> from a package folder. Slow
/// (tens of seconds: two packs, a restore and a build), hence the category.
/// </summary>
[Trait("Category", "Packaging")]
public sealed class PackageTests(PackedComety packed) : IClassFixture<PackedComety>
{
    private const string StaticAssets = "/_content/Comety.Razor";

    [Theory]
    [InlineData("Comety.Core", "T:Comety.Dispatcher")]
    [InlineData("Comety.Razor", "T:Comety.CometyController")]
    public void Each_package_holds_its_library_with_docs_the_readme_and_the_licence(string id, string documentedType)
    {
        using var package = NuGetPackage.Open(packed.PackagePath(id));

        Assert.Equal(id, package.Element("id")?.Value);
        Assert.Equal(packed.Version, package.Element("version")?.Value);
        var license = package.Element("license");
        Assert.Equal("expression", license?.Attribute("type")?.Value);
        Assert.Equal("Apache-2.0", license?.Value);
        Assert.Equal("README.md", package.Element("readme")?.Value);
        Assert.False(string.IsNullOrWhiteSpace(package.Element("description")?.Value), "The package has no description.");

        Assert.Subset(package.Files.ToHashSet(), new HashSet<string>
        {
            "README.md",
            "NOTICE",
            $"lib/net10.0/{id}.dll",
            $"lib/net10.0/{id}.xml",
        });
        Assert.Equal(File.ReadAllText(Path.Combine(PackedComety.RepositoryRoot, "README.md")), package.ReadText("README.md"));
        Assert.Equal(File.ReadAllText(Path.Combine(PackedComety.RepositoryRoot, "NOTICE")), package.ReadText("NOTICE"));
        Assert.Contains($"<member name=\"{documentedType}\">", package.ReadText($"lib/net10.0/{id}.xml"), StringComparison.Ordinal);
    }

    [Fact]
    public void Comety_Razor_holds_the_browser_script_and_jQuery_and_depends_on_Comety_Core_of_its_version()
    {
        using var package = NuGetPackage.Open(packed.PackagePath("Comety.Razor"));

        Assert.Subset(package.Files.ToHashSet(), new HashSet<string>
        {
            "staticwebassets/comety.js",
            "staticwebassets/lib/jquery/dist/jquery.min.js",
            "staticwebassets/lib/jquery/LICENSE.txt",
        });
        Assert.Contains("Comety.create", package.ReadText("staticwebassets/comety.js"), StringComparison.Ordinal);
        Assert.Equal(("Comety.Core", packed.Version, "net10.0"), Assert.Single(package.Dependencies));
        Assert.Contains("name=\"Microsoft.AspNetCore.App\"", package.Element("frameworkReferences")?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_MVC_application_built_on_the_packages_alone_renders_the_script_serves_the_assets_and_answers_polls()
    {
        using var consumer = ConsumerApp.Write(Path.Combine(packed.Root, "app"), packed);
        await consumer.BuildAsync();
        await using var app = await consumer.StartAsync();
        using var client = app.CreateClient();

        using var page = await client.GetAsync(new Uri("/", UriKind.Relative)).Bounded();
        var html = await page.Content.ReadAsStringAsync().Bounded();
        Assert.True(page.StatusCode == HttpStatusCode.OK, $"GET / answered {(int)page.StatusCode}: {html}\nThe application logged:\n{app.Output}");
        var scripts = RenderedScripts.Parse(html);
        Assert.Equal(
            ["timing comety", $"if-no-jquery src {StaticAssets}/lib/jquery/dist/jquery.min.js", $"src {StaticAssets}/comety.js", "create comety jQuery"],
            scripts.Kinds);
        Assert.Equal(ConsumerApp.UpdatesPath, scripts.Settings.GetProperty("url").GetString());

        foreach (var (path, content) in new[] { ($"{StaticAssets}/comety.js", "Comety.create"), ($"{StaticAssets}/lib/jquery/dist/jquery.min.js", "jQuery") })
        {
            using var asset = await client.GetAsync(new Uri(path, UriKind.Relative)).Bounded();
            var text = await asset.Content.ReadAsStringAsync().Bounded();
            Assert.True(asset.StatusCode == HttpStatusCode.OK, $"GET {path} answered {(int)asset.StatusCode}.\nThe application logged:\n{app.Output}");
            Assert.Equal("text/javascript", asset.Content.Headers.ContentType?.MediaType);
            Assert.Contains(content, text, StringComparison.Ordinal);
        }

        // The page set the user's cookie; the client sends it back, as a browser would.
        using var poll = await client.GetAsync(new Uri($"{ConsumerApp.UpdatesPath}?timeout=0", UriKind.Relative)).Bounded();
        var answer = await CometyHttp.ReadAnswerAsync(poll);
        Assert.Equal("application/json", poll.Content.Headers.ContentType?.MediaType);
        Assert.True(poll.IsNoStore(), $"Cache-Control: {poll.Headers.CacheControl}");
        Assert.Null(answer.Events);
    }
}
