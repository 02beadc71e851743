using System.Diagnostics;
using System.Text.Json;
using Comety.Tests.Infrastructure;

namespace Comety.Tests.Packaging.Infrastructure;

/// <summary>
/// The TypeScript compiler from the npm registry, at the version Packaging/TypeScript/package.json
/// pins, installed once into Comety.Tests/obj/typescript (kept there for later runs), and run on
/// pages written against comety.d.ts with the strict settings a TypeScript page would use.
/// </summary>
internal static class TypeScriptCompiler
{
    private static readonly TimeSpan InstallBound = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan CompileBound = TimeSpan.FromMinutes(1);
    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    /// <summary>The folder of the test pages and of the package.json that pins the compiler.</summary>
    public static string PagesFolder { get; } = Path.Combine(BuildOutput.RepositoryRoot, "Comety.Tests", "Packaging", "TypeScript");

    /// <summary>comety.d.ts as Comety.Razor ships it.</summary>
    public static string Declarations { get; } = Path.Combine(BuildOutput.RepositoryRoot, "Comety.Razor", "wwwroot", "comety.d.ts");

    private static string InstallFolder { get; } = Path.Combine(BuildOutput.RepositoryRoot, "Comety.Tests", "obj", "typescript");

    /// <summary>
    /// Type-checks the pages (file names in <see cref="PagesFolder"/>) together with comety.d.ts, which
    /// the module specifier '/_content/Comety.Razor/comety.mjs' maps to; returns tsc's exit code and output.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> CheckAsync(params string[] pages)
    {
        var tsc = await InstallAsync();
        var project = Directory.CreateTempSubdirectory("comety-tsc-");
        try
        {
            var tsconfig = new
            {
                compilerOptions = new Dictionary<string, object>
                {
                    ["strict"] = true,
                    ["noEmit"] = true,
                    ["target"] = "ES2020",
                    ["lib"] = new[] { "ES2020", "DOM", "DOM.Iterable" },
                    ["module"] = "ESNext",
                    ["moduleResolution"] = "bundler",
                    ["types"] = Array.Empty<string>(),
                    ["paths"] = new Dictionary<string, string[]> { ["/_content/Comety.Razor/comety.mjs"] = [Declarations] },
                },
                files = new[] { Declarations }.Concat(pages.Select(page => Path.Combine(PagesFolder, page))).ToArray(),
            };
            await File.WriteAllTextAsync(Path.Combine(project.FullName, "tsconfig.json"), JsonSerializer.Serialize(tsconfig));
            var (exitCode, output) = await RunAsync("node", project.FullName, CompileBound, tsc, "-p", "tsconfig.json", "--pretty", "false");
            return (exitCode, output);
        }
        finally
        {
            project.Delete(recursive: true);
        }
    }

    // npm install into the kept folder, unless it already holds the pinned version.
    private static async Task<string> InstallAsync()
    {
        var pinned = PinnedVersion();
        var installed = Path.Combine(InstallFolder, "node_modules", "typescript");
        var tsc = Path.Combine(installed, "bin", "tsc");
        await InstallGate.WaitAsync(InstallBound);
        try
        {
            if (InstalledVersion(installed) != pinned)
            {
                Directory.CreateDirectory(InstallFolder);
                File.Copy(Path.Combine(PagesFolder, "package.json"), Path.Combine(InstallFolder, "package.json"), overwrite: true);
                var (exitCode, output) = await RunAsync("npm", InstallFolder, InstallBound, "install", "--no-audit", "--no-fund", "--no-package-lock");
                Assert.True(exitCode == 0, $"npm install of typescript@{pinned} failed ({exitCode}):\n{output}");
                Assert.Equal(pinned, InstalledVersion(installed));
            }

            return tsc;
        }
        finally
        {
            InstallGate.Release();
        }
    }

    private static string PinnedVersion()
    {
        using var package = JsonDocument.Parse(File.ReadAllText(Path.Combine(PagesFolder, "package.json")));
        return package.RootElement.GetProperty("devDependencies").GetProperty("typescript").GetString()!;
    }

    private static string? InstalledVersion(string folder)
    {
        var manifest = Path.Combine(folder, "package.json");
        if (!File.Exists(manifest))
        {
            return null;
        }

        using var package = JsonDocument.Parse(File.ReadAllText(manifest));
        return package.RootElement.GetProperty("version").GetString();
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string fileName, string workingDirectory, TimeSpan bound, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(fileName) { WorkingDirectory = workingDirectory };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        await using var process = ChildProcess.Start(startInfo);
        var exitCode = await process.WaitForExitAsync(bound);
        Assert.True(exitCode is not null, $"`{process.CommandLine}` did not finish within {bound} and was killed. It printed:\n{process.Output}");
        return (exitCode.Value, process.Output);
    }
}
