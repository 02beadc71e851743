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

    // Where the packed README's links into the repository lead: the files of the packed commit.
    private string RepositoryLinkBase => $"{PackedComety.RepositoryUrl}/blob/{packed.Commit}/";

    [Theory]
    [InlineData("Comety.Core", "T:Comety.CometyDispatcher")]
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
        // The repository's README, but for the links that the pack made absolute.
        Assert.Equal(File.ReadAllText(Path.Combine(PackedComety.RepositoryRoot, "README.md")), package.ReadText("README.md").Replace(RepositoryLinkBase, "", StringComparison.Ordinal));
        Assert.Equal(File.ReadAllText(Path.Combine(PackedComety.RepositoryRoot, "NOTICE")), package.ReadText("NOTICE"));
        Assert.Contains($"<member name=\"{documentedType}\">", package.ReadText($"lib/net10.0/{id}.xml"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Comety.Core")]
    [InlineData("Comety.Razor")]
    public void Each_package_names_its_repository_and_commit_and_its_readme_links_to_files_of_that_commit(string id)
    {
        using var package = NuGetPackage.Open(packed.PackagePath(id));

        var repository = package.Element("repository");
        Assert.Equal("git", repository?.Attribute("type")?.Value);
        Assert.Equal(PackedComety.RepositoryUrl, repository?.Attribute("url")?.Value);
        Assert.Equal(packed.Commit, repository?.Attribute("commit")?.Value);
        Assert.Equal(PackedComety.RepositoryUrl, package.Element("projectUrl")?.Value);

        // A package page has no repository to resolve a relative link against: each link is absolute or a heading of the page.
        var targets = MarkdownLinks.Targets(package.ReadText("README.md"));
        Assert.All(targets, target => Assert.True(
            target.StartsWith('#') || target.StartsWith("https://", StringComparison.Ordinal),
            $"The packed README links to '{target}', which a package page cannot resolve."));
        var intoRepository = targets.Where(target => target.StartsWith(RepositoryLinkBase, StringComparison.Ordinal)).ToList();
        Assert.Contains(RepositoryLinkBase + "docs/PROTOCOL.md", intoRepository);
        Assert.All(intoRepository, target => Assert.True(
            File.Exists(Path.Combine(PackedComety.RepositoryRoot, target[RepositoryLinkBase.Length..].Split('#')[0])),
            $"The packed README links to '{target}', a file the repository does not have."));
    }

    [Theory]
    [InlineData("Comety.Core")]
    [InlineData("Comety.Razor")]
    public void Each_package_has_a_symbol_package_whose_pdb_links_its_sources_to_the_packed_commit(string id)
    {
        using var symbols = NuGetPackage.Open(packed.SymbolPackagePath(id));

        Assert.Equal(id, symbols.Element("id")?.Value);
        var sourceLink = PortablePdb.ReadSourceLink(symbols.ReadBytes($"lib/net10.0/{id}.pdb"));
        Assert.NotNull(sourceLink);
        Assert.Contains($"\"{PackedComety.RepositoryUrl.Replace("https://github.com/", "https://raw.githubusercontent.com/", StringComparison.Ordinal)}/{packed.Commit}/*\"", sourceLink, StringComparison.Ordinal);
    }

    [Fact]
    public void Comety_Razor_holds_the_browser_script_and_jQuery_and_depends_on_Comety_Core_of_its_version()
    {
        using var package = NuGetPackage.Open(packed.PackagePath("Comety.Razor"));

        Assert.Subset(package.Files.ToHashSet(), new HashSet<string>
        {
            "staticwebassets/comety.js",
            "staticwebassets/comety.mjs",
            "staticwebassets/comety.d.ts",
            "staticwebassets/lib/jquery/dist/jquery.min.js",
            "staticwebassets/lib/jquery/LICENSE.txt",
        });
        Assert.Contains("Comety.create", package.ReadText("staticwebassets/comety.js"), StringComparison.Ordinal);
        Assert.Contains("import './comety.js';", package.ReadText("staticwebassets/comety.mjs"), StringComparison.Ordinal);
        Assert.Contains("export declare const create: typeof Comety.create;", package.ReadText("staticwebassets/comety.d.ts"), StringComparison.Ordinal);
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
            ["timing comety", $"if-no-jquery src {StaticAssets}/lib/jquery/dist/jquery.min.js", $"src {StaticAssets}/comety.js?v={ScriptVersion.CometyJs}", "create comety jQuery"],
            scripts.Kinds);
        Assert.Equal(ConsumerApp.UpdatesPath, scripts.Settings.GetProperty("url").GetString());

        foreach (var (path, content) in new[] { ($"{StaticAssets}/comety.js?v={ScriptVersion.CometyJs}", "Comety.create"), ($"{StaticAssets}/comety.mjs", "export const create"), ($"{StaticAssets}/lib/jquery/dist/jquery.min.js", "jQuery") })
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
