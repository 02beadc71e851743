using System.Security;
using System.Text.Json;

namespace Comety.Tests.Packaging.Infrastructure;

/// <summary>
/// A new MVC application that takes Comety from the packed <c>Comety.Razor</c> package, as a user's
/// application would: a page at <c>/</c> that registers a user with the dispatcher and renders
/// <c>&lt;comety-script&gt;</c>, and an updates URL at <c>/updates</c> that knows the user by a cookie.
/// The files are written here rather than by <c>dotnet new</c>, so that no template is needed.
/// </summary>
/// <remarks>
/// Disposing removes the packages its restore extracted into the NuGet global packages folder,
/// which nothing else will use: their version is this run's alone.
/// </remarks>
internal sealed class ConsumerApp : IDisposable
{
    public const string Name = "CometyConsumer";
    public const string UserCookie = "consumer-user";
    public const string UpdatesPath = "/updates";

    private readonly PackedComety _packages;

    private ConsumerApp(string folder, PackedComety packages)
    {
        Folder = folder;
        _packages = packages;
    }

    public string Folder { get; }

    public string AssemblyPath => Path.Combine(Folder, "bin", "Debug", "net10.0", Name + ".dll");

    /// <summary>Writes the application into <paramref name="folder"/>, which must be outside the repository.</summary>
    public static ConsumerApp Write(string folder, PackedComety packages)
    {
        Directory.CreateDirectory(folder);
        foreach (var (path, text) in Files(packages))
        {
            var file = Path.Combine(folder, path);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file, text);
        }

        return new ConsumerApp(folder, packages);
    }

    public Task BuildAsync() =>
        DotNet.RunAsync(Folder, "build", Name + ".csproj", "--configuration", "Debug", DotNet.NoBuildServers);

    /// <summary>Starts the built application on a free port of 127.0.0.1, in the Development environment that serves packages' static web assets from the build output.</summary>
    public Task<RunningApp> StartAsync() => RunningApp.StartAsync(Folder, AssemblyPath);

    public void Dispose()
    {
        var packagesFolder = GlobalPackagesFolder();
        foreach (var id in new[] { "Comety.Core", "Comety.Razor" })
        {
            var idFolder = Path.Combine(packagesFolder, id.ToLowerInvariant());
            var extracted = Path.Combine(idFolder, _packages.Version.ToLowerInvariant());
            if (Directory.Exists(extracted))
            {
                Directory.Delete(extracted, recursive: true);
            }

            if (Directory.Exists(idFolder) && !Directory.EnumerateFileSystemEntries(idFolder).Any())
            {
                try
                {
                    Directory.Delete(idFolder);
                }
                catch (IOException)
                {
                    // Another run's restore is extracting its own version there right now.
                }
            }
        }
    }

    // Where this application's restore put its packages: what it wrote in its assets file, else NuGet's default.
    private string GlobalPackagesFolder()
    {
        var assets = Path.Combine(Folder, "obj", "project.assets.json");
        if (File.Exists(assets))
        {
            using var json = JsonDocument.Parse(File.ReadAllText(assets));
            if (json.RootElement.TryGetProperty("project", out var project)
                && project.TryGetProperty("restore", out var restore)
                && restore.TryGetProperty("packagesPath", out var path)
                && path.GetString() is { Length: > 0 } packagesPath)
            {
                return packagesPath;
            }
        }

        return Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    }

    private static IEnumerable<(string Path, string Text)> Files(PackedComety packages)
    {
        yield return (Name + ".csproj", $$"""
            <Project Sdk="Microsoft.NET.Sdk.Web">

              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <!-- A warning the packages cause (a dependency, a tag helper, a view) fails the build. -->
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <!-- The audit needs vulnerability data that the machine may not reach; its warning would not be the packages' fault. -->
                <NuGetAudit>false</NuGetAudit>
              </PropertyGroup>

              <ItemGroup>
                <PackageReference Include="Comety.Razor" Version="{{packages.Version}}" />
              </ItemGroup>

            </Project>

            """);

        // No <clear />: the machine's sources stay, and bring what the packages depend on.
        yield return ("nuget.config", $$"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="comety-under-test" value="{{SecurityElement.Escape(packages.PackageFolder)}}" />
              </packageSources>
            </configuration>

            """);

        // MSBuild looks for these in every folder up to the root; the application stops the search here.
        yield return ("Directory.Build.props", "<Project />\n");
        yield return ("Directory.Build.targets", "<Project />\n");

        yield return ("Program.cs", """
            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddControllersWithViews();
            builder.Services.AddComety();

            var app = builder.Build();
            app.UseStaticFiles();
            app.MapControllers();
            app.MapDefaultControllerRoute();
            app.Run();

            """);

        yield return (Path.Combine("Controllers", "UpdatesController.cs"), $$"""
            using Comety;
            using Microsoft.AspNetCore.Mvc;

            namespace {{Name}}.Controllers;

            [Route("{{UpdatesPath.TrimStart('/')}}")]
            public sealed class UpdatesController : CometyController
            {
                protected override string? GetUserId() => Request.Cookies["{{UserCookie}}"];
            }

            """);

        yield return (Path.Combine("Controllers", "HomeController.cs"), $$"""
            using Comety;
            using Microsoft.AspNetCore.Mvc;

            namespace {{Name}}.Controllers;

            public sealed class HomeController(CometyDispatcher dispatcher) : Controller
            {
                public async Task<IActionResult> Index(CancellationToken cancellationToken)
                {
                    var user = "reader-" + Guid.NewGuid().ToString("N");
                    await dispatcher.RegisterUserAsync(user, cancellationToken: cancellationToken);
                    Response.Cookies.Append("{{UserCookie}}", user, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict });
                    return View(model: dispatcher.LastSequence);
                }
            }

            """);

        yield return (Path.Combine("Views", "_ViewImports.cshtml"), """
            @addTagHelper *, Comety.Razor

            """);

        yield return (Path.Combine("Views", "Home", "Index.cshtml"), $$"""
            @model long
            <!DOCTYPE html>
            <html>
            <head>
                <title>Comety from its packages</title>
                <comety-script url="{{UpdatesPath}}" include-jquery="true" resume-after="Model" />
            </head>
            <body>
            </body>
            </html>

            """);
    }
}
