using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Comety.Tests.Infrastructure;

namespace Comety.Tests.Sample.Infrastructure;

/// <summary>
/// The sample chat as its users run it: <c>dotnet Comety.Chat.dll</c> in a process of its own,
/// from the sample's build output (the same Configuration as the tests, which build it first),
/// listening on 127.0.0.1 on a port the system picks. Disposing it kills the process tree.
/// </summary>
public sealed partial class SampleProcess : IAsyncDisposable
{
    /// <summary>How long the sample may take to start listening: a cold start of the runtime, JIT and Razor.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private const string SampleName = "Comety.Chat";

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;
    private Task? _stopped;

    private SampleProcess(Process process, ConcurrentQueue<string> output, Uri baseAddress)
    {
        _process = process;
        _output = output;
        BaseAddress = baseAddress;
    }

    /// <summary>Gets the address the sample listens on, <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Returns the last <paramref name="count"/> lines the sample wrote to its standard output and error, for failure messages.</summary>
    public string LastOutput(int count) => string.Join(Environment.NewLine, _output.TakeLast(count));

    /// <summary>Gets the sample's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>
    /// Starts the sample with <paramref name="settings"/> (configuration keys and values, such as
    /// <c>Comety:HeartbeatTimeout</c>) on its command line, and waits until it listens: on
    /// <paramref name="url"/> (<c>http://127.0.0.1:PORT</c>), or on a port the system picks. Another
    /// project of samples/ (<paramref name="sampleName"/>, such as the cluster's load balancer)
    /// starts the same way.
    /// </summary>
    public static async Task<SampleProcess> StartAsync(IReadOnlyDictionary<string, string> settings, string? url = null, string sampleName = SampleName)
    {
        var projectDirectory = Path.Combine(BuildOutput.RepositoryRoot, "samples", sampleName);
        var assembly = BuildOutput.AssemblyPath(Path.Combine("samples", sampleName));
        if (!File.Exists(assembly))
        {
            throw new InvalidOperationException($"The sample is not built: '{assembly}' does not exist. Building Comety.Tests builds it.");
        }

        var start = new ProcessStartInfo(DotnetHost())
        {
            // The content root: Views and wwwroot from the project, as with `dotnet run`.
            WorkingDirectory = projectDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(assembly);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(url ?? "http://127.0.0.1:0");
        foreach (var (key, value) in settings)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        // Development serves the static web assets of Comety.Razor (comety.js, jQuery) from their projects.
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment.Remove("DOTNET_URLS");

        var output = new ConcurrentQueue<string>();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        // Read both streams to the end, always: a full pipe would block the sample's logging.
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line)
            {
                return;
            }

            output.Enqueue(line);
            if (ListeningLine().Match(line) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups["address"].Value + "/"));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                output.Enqueue("stderr: " + line);
            }
        };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("The sample exited before it listened."));

        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            return new SampleProcess(process, output, await listening.Task.WaitAsync(StartTimeout));
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            await StopAsync(process);
            throw new InvalidOperationException(
                $"The sample did not start listening within {StartTimeout.TotalSeconds} s ({e.Message}):{Environment.NewLine}{string.Join(Environment.NewLine, output)}", e);
        }
    }

    /// <summary>Kills the process tree (SIGKILL: no shutdown runs) and waits until it is gone; the same as disposing.</summary>
    public Task KillAsync()
    {
        lock (_output)
        {
            return _stopped ??= StopAsync(_process);
        }
    }

    public ValueTask DisposeAsync() => new(KillAsync());

    private static async Task StopAsync(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It has exited already.
        }

        try
        {
            await process.WaitForExitAsync().WaitAsync(TestEvents.Bound);
        }
        finally
        {
            process.Dispose();
        }
    }

    // The dotnet executable that runs the tests, so that the sample runs on the same runtimes.
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        return Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
    }

    [GeneratedRegex(@"Now listening on: (?<address>http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
