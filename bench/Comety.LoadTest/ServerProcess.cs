using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;

namespace Comety.LoadTest;

/// <summary>
/// One load-test server (Comety.LoadTest.CometyServer or Comety.LoadTest.SignalRServer) run as
/// its own process on 127.0.0.1, port 0, driven through its <c>/bench</c> control endpoints; this
/// side reads its CPU time and resident memory from <c>/proc</c>.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly double ClockTicksPerSecond = 100; // USER_HZ on Linux.

    private readonly Process _process;

    private ServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
        Control = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(120) };
    }

    /// <summary>The server's base address.</summary>
    public Uri Address { get; }

    public int ProcessId => _process.Id;

    /// <summary>A client for the control endpoints only (its own connections, not the fleet's).</summary>
    public HttpClient Control { get; }

    /// <summary>Starts a server project's build output with the given extra arguments and waits until it listens.</summary>
    public static Task<ServerProcess> StartAsync(string project, params string[] arguments) => StartAsync(project, 0, arguments);

    /// <summary>
    /// The same on a given port of 127.0.0.1 (0: a free one): a server started again where one was
    /// killed, so that its clients find it at the address they know.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(string project, int port, params string[] arguments)
    {
        var assembly = typeof(ServerProcess).Assembly;
        string Metadata(string key) => assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
        var dll = Path.Combine(Metadata("BenchDirectory"), project, "bin", Metadata("Configuration"), "net10.0", project + ".dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"Build the load test first (dotnet build -c {Metadata("Configuration")} bench/Comety.LoadTest); missing {dll}.", dll);
        }

        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(FormattableString.Invariant($"http://127.0.0.1:{port}"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start " + dll);
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.StartsWith("LISTENING ", StringComparison.Ordinal) == true)
            {
                listening.TrySetResult(new Uri(e.Data["LISTENING ".Length..].Trim() + "/"));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrEmpty(e.Data))
            {
                Console.Error.WriteLine($"[{project}] {e.Data}");
            }
        };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"{project} exited with code {process.ExitCode} before it listened."));
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            return new ServerProcess(process, await listening.Task.WaitAsync(StartTimeout));
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }

    /// <summary>User plus system CPU time the server has used so far.</summary>
    public TimeSpan CpuTime()
    {
        // utime and stime are the 14th and 15th fields of /proc/<pid>/stat.
        var fields = StatFields(File.ReadAllText($"/proc/{_process.Id}/stat"));
        return ClockTicks(long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The fields of a <c>/proc/&lt;pid&gt;/stat</c> after the command name in parentheses (which may
    /// hold spaces): the state is [0], the parent's pid [1], utime [11], stime [12], cutime [13], cstime [14].
    /// </summary>
    public static string[] StatFields(string stat) => stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

    /// <summary>A CPU time in clock ticks (USER_HZ), as <c>/proc</c> counts it.</summary>
    public static TimeSpan ClockTicks(long ticks) => TimeSpan.FromSeconds(ticks / ClockTicksPerSecond);

    /// <summary>The server's resident set size, in bytes.</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException("No VmRSS in /proc/" + _process.Id + "/status");
    }

    /// <summary>Clients currently waiting (polls in flight, or WebSocket connections open).</summary>
    /// <param name="joined">Whether to count the clients in rooms too (costly for the server; only while waiting for joins).</param>
    public async Task<ServerStatus> StatusAsync(bool joined = false, CancellationToken cancellationToken = default) =>
        (await Control.GetFromJsonAsync<ServerStatus>(joined ? "bench/status?joined=true" : "bench/status", JsonOptions, cancellationToken))!;

    /// <summary>Runs a full compacting collection in the server, so that what is read next is live memory.</summary>
    public async Task<ServerStatus> CollectGarbageAsync(CancellationToken cancellationToken = default)
    {
        using var response = await Control.PostAsync("bench/gc", null, cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<ServerStatus>(JsonOptions, cancellationToken))!;
    }

    public Task BroadcastAsync(int index, CancellationToken cancellationToken = default) =>
        PostAsync(FormattableString.Invariant($"bench/broadcast?index={index}"), cancellationToken);

    public Task BurstAsync(int start, int count, CancellationToken cancellationToken = default) =>
        PostAsync(FormattableString.Invariant($"bench/burst?start={start}&count={count}"), cancellationToken);

    public Task PostToRoomAsync(string room, int index, CancellationToken cancellationToken = default) =>
        PostAsync(FormattableString.Invariant($"bench/room?room={Uri.EscapeDataString(room)}&index={index}"), cancellationToken);

    private async Task PostAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await Control.PostAsync(path, null, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Kills the server with SIGKILL (no shutdown of its own: its connections are simply gone) and waits until it has exited.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }

        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        Control.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _process.Dispose();
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
}

/// <summary>What <c>/bench/status</c> and <c>/bench/gc</c> answer.</summary>
internal sealed record ServerStatus(int Waiting, int Joined, long HeapBytes, long AllocatedBytes, int Gen0Collections, int Gen2Collections, long CommittedBytes);
