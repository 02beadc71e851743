using System.Diagnostics;

namespace Comety.Tests.Packaging.Infrastructure;

/// <summary>
/// Runs the .NET CLI for the packaging tests, each command with a bound and its output kept for
/// the failure message, in an environment of its own rather than the one <c>dotnet test</c> leaves.
/// </summary>
internal static class DotNet
{
    /// <summary>How long a restore, build or pack may take.</summary>
    public static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Keeps the compiler and MSBuild servers out of a build: none outlives the test, and none holds
    /// the output the test reads open after the build ended.
    /// </summary>
    public const string NoBuildServers = "--disable-build-servers";

    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/> and fails the test, showing what it printed, unless it succeeds within <see cref="BuildTimeout"/>.</summary>
    public static Task<string> RunAsync(string workingDirectory, params string[] arguments) =>
        RunAsync(workingDirectory, new Dictionary<string, string?>(), arguments);

    /// <summary>Runs <c>dotnet</c> as <see cref="RunAsync(string, string[])"/> does, the variables of <paramref name="environment"/> set (or, when null, removed).</summary>
    public static async Task<string> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        await using var process = Start(workingDirectory, environment, arguments);
        return await FinishAsync(process);
    }

    /// <summary>Waits for a process started for a build and fails the test, showing what it printed, unless it succeeds within <see cref="BuildTimeout"/>.</summary>
    public static async Task<string> FinishAsync(ChildProcess process)
    {
        var exitCode = await process.WaitForExitAsync(BuildTimeout);

        Assert.True(exitCode is not null, $"`{process.CommandLine}` did not finish within {BuildTimeout} and was killed. It printed:\n{process.Output}");
        Assert.True(exitCode == 0, $"`{process.CommandLine}` exited with {exitCode}. It printed:\n{process.Output}");
        return process.Output;
    }

    /// <summary>Starts <c>dotnet</c> with <paramref name="arguments"/>, the variables of <paramref name="environment"/> set (or, when null, removed).</summary>
    public static ChildProcess Start(string workingDirectory, IReadOnlyDictionary<string, string?> environment, params string[] arguments) =>
        ChildProcess.Start(StartInfo(Executable(), workingDirectory, environment, arguments));

    /// <summary>
    /// What starts <paramref name="fileName"/> with <paramref name="arguments"/> in the environment the
    /// tests give the .NET CLI, the variables of <paramref name="environment"/> set (or, when null, removed).
    /// </summary>
    public static ProcessStartInfo StartInfo(string fileName, string workingDirectory, IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(fileName) { WorkingDirectory = workingDirectory };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // Under `dotnet test` the tests inherit MSBuild's variables, which point a build at the SDK
        // and settings of the test run; the builds here resolve their own.
        var inherited = startInfo.Environment.Keys.Where(name => name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList();
        foreach (var name in inherited)
        {
            startInfo.Environment.Remove(name);
        }

        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        startInfo.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }

        return startInfo;
    }

    /// <summary>The dotnet the SDK runs under, which it names; else the one on PATH.</summary>
    public static string Executable() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
