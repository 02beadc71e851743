using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Comety.Tests.Packaging.Infrastructure;

/// <summary>
/// A process the packaging tests start, with what it prints on standard output and error captured
/// as it comes, so that a failure can show it; disposing kills it and its children if still running.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private static readonly TimeSpan KillBound = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly Lock _gate = new();
    private readonly StringBuilder _output = new();
    private readonly List<(Regex Pattern, TaskCompletionSource<Match> Found)> _watches = [];
    private int _openStreams = 2;

    private ChildProcess(Process process, string commandLine)
    {
        _process = process;
        CommandLine = commandLine;
    }

    /// <summary>The command as a person would type it, for messages.</summary>
    public string CommandLine { get; }

    /// <summary>Everything the process printed so far, standard output and error interleaved.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    public static ChildProcess Start(ProcessStartInfo startInfo)
    {
        startInfo.UseShellExecute = false;
        startInfo.RedirectStandardInput = true;
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.StandardOutputEncoding = Encoding.UTF8;
        startInfo.StandardErrorEncoding = Encoding.UTF8;

        var commandLine = $"{startInfo.FileName} {string.Join(' ', startInfo.ArgumentList)} (in {startInfo.WorkingDirectory})";
        var process = new Process { StartInfo = startInfo };
        var child = new ChildProcess(process, commandLine);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        try
        {
            process.Start();
        }
        catch
        {
            process.Dispose();
            throw;
        }

        // Nothing is ever typed: a process that reads its input sees the end of it at once.
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>
    /// Waits until the process exits and has closed its output, and returns its exit code; or,
    /// when <paramref name="timeout"/> passes first, kills it with its children and returns null.
    /// </summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var timer = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(timer.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested)
        {
            await KillAsync();
            return null;
        }
    }

    /// <summary>
    /// Asks the process to stop as Ctrl+C or a service manager does (SIGTERM), and waits until it
    /// exits; returns its exit code, or null when it was still running after <paramref name="timeout"/> and was killed.
    /// </summary>
    public async Task<int?> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            // bash's own kill: a machine may have no kill program (procps), and the tests need bash anyway.
            var signal = new ProcessStartInfo("bash") { UseShellExecute = false };
            signal.ArgumentList.Add("-c");
            signal.ArgumentList.Add(string.Create(CultureInfo.InvariantCulture, $"kill -TERM {_process.Id}"));
            using var kill = Process.Start(signal) ?? throw new InvalidOperationException("bash did not start.");
            await kill.WaitForExitAsync().WaitAsync(timeout);
        }

        return await WaitForExitAsync(timeout);
    }

    /// <summary>
    /// Waits until the process prints a line that matches <paramref name="pattern"/> and returns the match;
    /// null when the process closes its output first or <paramref name="timeout"/> passes.
    /// </summary>
    public async Task<Match?> WaitForLineAsync(Regex pattern, TimeSpan timeout)
    {
        var found = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (pattern.Match(_output.ToString()) is { Success: true } printed)
            {
                return printed;
            }

            if (_openStreams == 0)
            {
                return null;
            }

            _watches.Add((pattern, found));
        }

        try
        {
            var match = await found.Task.WaitAsync(timeout);
            return match.Success ? match : null;
        }
        catch (TimeoutException)
        {
            return null;
        }
        finally
        {
            lock (_gate)
            {
                _watches.RemoveAll(watch => watch.Found == found);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private async Task KillAsync()
    {
        try
        {
            if (_process.HasExited)
            {
                return;
            }

            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
            return;
        }

        using var timer = new CancellationTokenSource(KillBound);
        await _process.WaitForExitAsync(timer.Token);
    }

    private void OnLine(string? line)
    {
        lock (_gate)
        {
            if (line is null)
            {
                // One stream ended; when both have, nothing more will be printed.
                if (--_openStreams == 0)
                {
                    foreach (var (_, found) in _watches)
                    {
                        // Match.Empty: not found, and never will be.
                        found.TrySetResult(Match.Empty);
                    }
                }

                return;
            }

            _output.AppendLine(line);
            foreach (var (pattern, found) in _watches)
            {
                if (pattern.Match(line) is { Success: true } match)
                {
                    found.TrySetResult(match);
                }
            }
        }
    }
}
