using System.Diagnostics;

namespace Comety.Tests.Packaging.Infrastructure;

/// <summary>Runs <c>git</c> for the packaging tests, with a bound, its output kept for the failure message, and no user or global configuration.</summary>
internal static class Git
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    /// <summary>Runs <c>git</c> with <paramref name="arguments"/> in <paramref name="workingDirectory"/> and returns what it printed; fails the test unless it succeeds.</summary>
    public static async Task<string> RunAsync(string workingDirectory, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo("git") { WorkingDirectory = workingDirectory };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // The machine's settings (signing, hooks, templates) stay out of the test's repository.
        startInfo.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        startInfo.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        startInfo.Environment["GIT_AUTHOR_NAME"] = startInfo.Environment["GIT_COMMITTER_NAME"] = "Comety tests";
        startInfo.Environment["GIT_AUTHOR_EMAIL"] = startInfo.Environment["GIT_COMMITTER_EMAIL"] = "tests@comety.invalid";

        await using var process = ChildProcess.Start(startInfo);
        var exitCode = await process.WaitForExitAsync(Timeout);
        Assert.True(exitCode == 0, $"`{process.CommandLine}` {(exitCode is null ? $"did not finish within {Timeout}" : $"exited with {exitCode}")}. It printed:\n{process.Output}");
        return process.Output;
    }
}
