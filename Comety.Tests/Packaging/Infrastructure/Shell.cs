namespace Comety.Tests.Packaging.Infrastructure;

/// <summary>
/// Runs commands as a reader types them, with <c>bash</c>, in the environment the tests give the
/// .NET CLI: the tests' own <c>dotnet</c> first on PATH, and no MSBuild node or compiler server
/// left running after the commands end.
/// </summary>
internal static class Shell
{
    /// <summary>
    /// Runs <paramref name="script"/> in <paramref name="workingDirectory"/>, stopping at the first
    /// command that fails (and failing the test with everything printed, each command shown as it runs).
    /// </summary>
    public static async Task<string> RunAsync(string workingDirectory, string script, IReadOnlyDictionary<string, string?> environment)
    {
        var settings = new Dictionary<string, string?>(environment)
        {
            // What DotNet.NoBuildServers does for `dotnet build`, for commands that do not take it.
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["UseSharedCompilation"] = "false",
        };
        var dotnet = DotNet.Executable();
        if (Path.IsPathRooted(dotnet))
        {
            settings["PATH"] = Path.GetDirectoryName(dotnet) + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
        }

        await using var process = ChildProcess.Start(DotNet.StartInfo("bash", workingDirectory, settings, "-euxc", script));
        return await DotNet.FinishAsync(process);
    }
}
