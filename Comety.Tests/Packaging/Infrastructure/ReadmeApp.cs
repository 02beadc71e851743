using System.Text.RegularExpressions;

namespace Comety.Tests.Packaging.Infrastructure;

/// <summary>
/// The application a reader makes by following the README's "Adding Comety to an MVC application"
/// literally, built once for a test class: the section's commands run as written (<c>dotnet new
/// mvc</c>, the packs, the package source, <c>dotnet add package</c>) in a temporary folder that
/// holds a copy of the repository as <c>comety/</c> beside <c>MyApp/</c>; its code blocks go into
/// the files they name (<see cref="ReadmeSnippet"/>); <see cref="ReadmeAppOwnCode"/> adds what the
/// README leaves to the application. Disposing deletes the folder.
/// </summary>
/// <remarks>
/// Where a reader types <c>dotnet run</c>, the test builds (warnings as errors) and runs the build
/// output in the Development environment, as <c>dotnet run</c> does. Otherwise only the environment
/// differs from a reader's: a NuGet global packages folder of the test's own (the README's
/// date-stamped version may be another run's in the same second, and nothing of this one stays on
/// the machine), and no build servers left running.
/// </remarks>
public sealed partial class ReadmeApp : IAsyncLifetime
{
    public const string Section = "## Adding Comety to an MVC application";
    public const string Name = "MyApp";

    private readonly string _root = Directory.CreateTempSubdirectory("comety-readme-").FullName;

    public string Folder => Path.Combine(_root, Name);

    /// <summary>The version <c>dotnet pack</c> gave both packages, as the README's commands chose it.</summary>
    public string Version { get; private set; } = "";

    private string AssemblyPath => Path.Combine(Folder, "bin", "Debug", "net10.0", Name + ".dll");

    private Dictionary<string, string?> BuildEnvironment => new() { ["NUGET_PACKAGES"] = Path.Combine(_root, "nuget-packages") };

    public async Task InitializeAsync()
    {
        var snippets = ReadmeSnippet.ReadSection(Path.Combine(PackedComety.RepositoryRoot, "README.md"), Section);
        PackedComety.CopySources(Path.Combine(_root, "comety"));

        // One script, as one terminal session: each block goes on where the previous one left off.
        await Shell.RunAsync(_root, string.Concat(snippets.Where(static s => s.IsRun).Select(static s => s.Text)), BuildEnvironment);
        Version = PackedVersion();
        var project = File.ReadAllText(Path.Combine(Folder, Name + ".csproj"));
        Assert.True(
            project.Contains($"<PackageReference Include=\"Comety.Razor\" Version=\"{Version}\" />", StringComparison.Ordinal),
            $"After the README's commands, {Name}.csproj does not reference Comety.Razor {Version}, the version just packed:\n{project}");

        var slots = new Dictionary<string, ReadmeSnippet>();
        foreach (var snippet in snippets.Where(static s => !s.IsRun))
        {
            if (snippet.IsSlot)
            {
                Assert.True(slots.TryAdd(snippet.SlotName, snippet), $"{snippet} and {slots.GetValueOrDefault(snippet.SlotName)} have the same name.");
            }
            else
            {
                AddToFile(snippet.Target, snippet.Lines, snippet.ToString());
            }
        }

        foreach (var (path, text) in ReadmeAppOwnCode.Files(slots))
        {
            Write(path, text);
        }

        foreach (var (path, lines) in ReadmeAppOwnCode.Additions)
        {
            AddToFile(path, lines, $"the tests' own lines for {path}");
        }

        // Warnings as errors: a snippet that builds only with a warning would show the reader one.
        // The audit needs vulnerability data the machine may not reach; its warning is nobody's snippet.
        await DotNet.RunAsync(Folder, BuildEnvironment, "build", Name + ".csproj", "--configuration", "Debug", DotNet.NoBuildServers, "-warnaserror", "-p:NuGetAudit=false");
    }

    /// <summary>
    /// Starts the built application in a process of its own, as <see cref="RunningApp"/> does, with the
    /// configuration <paramref name="settings"/> as environment variables (<c>Comety:HeartbeatTimeout</c>
    /// becomes <c>Comety__HeartbeatTimeout</c>), on <paramref name="port"/> or a free port when 0.
    /// </summary>
    internal Task<RunningApp> StartAsync(IReadOnlyDictionary<string, string>? settings = null, int port = 0) =>
        RunningApp.StartAsync(
            Folder,
            AssemblyPath,
            (settings ?? new Dictionary<string, string>()).ToDictionary(static s => s.Key.Replace(":", "__", StringComparison.Ordinal), static s => (string?)s.Value),
            port);

    public Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    // The README promises both packages one version with the suffix it gives, new for each pack.
    private string PackedVersion()
    {
        var packages = Path.Combine(_root, "comety", "packages");
        var names = Directory.GetFiles(packages, "*.nupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.True(names.Count == 2, $"The README's packs left {names.Count} packages in {packages}: {string.Join(", ", names)}.");
        var core = PackageName().Match(names[0]!);
        var razor = PackageName().Match(names[1]!);
        Assert.True(
            core.Success && razor.Success && core.Groups["id"].Value == "Comety.Core" && razor.Groups["id"].Value == "Comety.Razor" && core.Groups["version"].Value == razor.Groups["version"].Value,
            $"The README's packs made {string.Join(", ", names)}, not Comety.Core and Comety.Razor of one version with the suffix local.<date and time>.");
        return core.Groups["version"].Value;
    }

    private void AddToFile(string path, IReadOnlyList<string> lines, string what)
    {
        var file = Path.Combine(Folder, path);
        Write(path, File.Exists(file) ? SnippetMerge.Apply(File.ReadAllText(file), lines, what) : string.Join('\n', lines) + "\n");
    }

    private void Write(string path, string text)
    {
        var file = Path.Combine(Folder, path);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, text);
    }

    [GeneratedRegex(@"^(?<id>Comety\.\w+)\.(?<version>\d+\.\d+\.\d+-local\.\d{14})\.nupkg$")]
    private static partial Regex PackageName();
}
