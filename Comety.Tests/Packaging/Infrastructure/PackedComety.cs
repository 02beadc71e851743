using System.Globalization;
using Comety.Tests.Infrastructure;

namespace Comety.Tests.Packaging.Infrastructure;

/// <summary>
/// Comety.Core and Comety.Razor packed once for the packaging tests, in Release, with a version no
/// other run uses (so that the NuGet global packages folder never serves a copy of another run),
/// into a temporary folder that disposing deletes.
/// </summary>
/// <remarks>
/// The packs run on a copy of the two projects, the build tooling in <c>eng/</c> and the
/// repository's top-level files, as a clean clone has them: committed to a git repository of its
/// own whose remote is on GitHub (<see cref="RepositoryUrl"/>), so that the packs find a commit and
/// a remote as a pack from a clone of the published repository does. Packing in place would
/// rebuild the repository's own bin and obj folders with this version while the rest of the suite
/// runs, and restoring jQuery there again would rewrite the files the static asset tests serve.
/// </remarks>
public sealed class PackedComety : IAsyncLifetime
{
    // The two packed projects and the build tooling they import (eng/ClientLibraries.targets).
    private static readonly string[] CopiedFolders = ["Comety.Core", "Comety.Razor", "eng"];

    // Build output and restored files: a clean clone has none of them.
    private static readonly string[] SkippedFolders = ["bin", "obj", "node_modules", Path.Combine("wwwroot", "lib")];

    public PackedComety()
    {
        Version = string.Create(CultureInfo.InvariantCulture, $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}");
        Root = Directory.CreateTempSubdirectory("comety-packaging-").FullName;
    }

    /// <summary>The temporary folder of this run: the copied sources, the packages, and whatever a test puts beside them.</summary>
    public string Root { get; }

    /// <summary>
    /// The repository the packs are told they come from (<c>-p:RepositoryUrl</c>, which replaces the
    /// placeholder of Directory.Build.props), and the copy's git remote.
    /// </summary>
    public const string RepositoryUrl = "https://github.com/comety-tests/comety";

    public string Version { get; }

    /// <summary>The commit of the copy that was packed.</summary>
    public string Commit { get; private set; } = "";

    /// <summary>The folder that holds the two packages, for use as a package source.</summary>
    public string PackageFolder => Path.Combine(Root, "packages");

    /// <summary>The repository the tests were built from.</summary>
    public static string RepositoryRoot => BuildOutput.RepositoryRoot;

    public string PackagePath(string id) => Path.Combine(PackageFolder, $"{id}.{Version}.nupkg");

    /// <summary>The symbol package packed beside <see cref="PackagePath"/>.</summary>
    public string SymbolPackagePath(string id) => Path.Combine(PackageFolder, $"{id}.{Version}.snupkg");

    public async Task InitializeAsync()
    {
        var sources = Path.Combine(Root, "src");
        CopySources(sources);
        await Git.RunAsync(sources, "init", "--quiet", "--initial-branch=main");
        await Git.RunAsync(sources, "add", "--all");
        await Git.RunAsync(sources, "commit", "--quiet", "--no-verify", "--message=The sources the packaging tests pack");
        await Git.RunAsync(sources, "remote", "add", "origin", RepositoryUrl + ".git");
        Commit = (await Git.RunAsync(sources, "rev-parse", "HEAD")).Trim();

        // Packing Comety.Razor restores and builds both projects; Comety.Core's pack then finds them built.
        await DotNet.RunAsync(sources, "pack", Path.Combine("Comety.Razor", "Comety.Razor.csproj"), "--configuration", "Release",
            "--output", PackageFolder, $"-p:Version={Version}", $"-p:RepositoryUrl={RepositoryUrl}", DotNet.NoBuildServers);
        await DotNet.RunAsync(sources, "pack", Path.Combine("Comety.Core", "Comety.Core.csproj"), "--configuration", "Release", "--no-restore",
            "--output", PackageFolder, $"-p:Version={Version}", $"-p:RepositoryUrl={RepositoryUrl}", DotNet.NoBuildServers);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Root, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Copies the two projects and the repository's top-level files into <paramref name="destination"/>, as a clean clone has them.</summary>
    internal static void CopySources(string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(RepositoryRoot))
        {
            // A worktree's .git is a file that names the repository's metadata: the copy must not share it.
            if (Path.GetFileName(file) != ".git")
            {
                File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
            }
        }

        foreach (var folder in CopiedFolders)
        {
            CopyFolder(Path.Combine(RepositoryRoot, folder), Path.Combine(destination, folder), projectFolder: Path.Combine(RepositoryRoot, folder));
        }
    }

    private static void CopyFolder(string source, string destination, string projectFolder)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
        }

        foreach (var folder in Directory.EnumerateDirectories(source))
        {
            if (!SkippedFolders.Contains(Path.GetRelativePath(projectFolder, folder)))
            {
                CopyFolder(folder, Path.Combine(destination, Path.GetFileName(folder)), projectFolder);
            }
        }
    }
}
