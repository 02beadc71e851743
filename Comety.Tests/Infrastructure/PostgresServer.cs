using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace Comety.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL cluster of the test run's own: <c>initdb</c>'s cluster in a new temporary folder,
/// started with <c>pg_ctl</c> on a free loopback port, with no password (trust) and no fsync, and
/// deleted with the folder on disposal. Nothing on the machine is configured or shared: a test run needs
/// only the server programs (<c>apt-get install postgresql</c>; eng/test.sh installs it). The
/// folder holds the data (<c>data/</c>), the server's log (<c>postgres.log</c>) and its Unix socket.
/// </summary>
/// <remarks>
/// initdb and the server refuse to run as root, and CI runs the tests as root: then they run as
/// the <c>postgres</c> system user (which Debian's package creates) through <c>runuser</c>, in a
/// folder owned by that user. initdb takes a second or two of CPU, a copy of its cluster a tenth
/// of that: it runs once per test run, into a template folder, and each server starts on a copy.
/// </remarks>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string Superuser = "postgres";
    private const string SystemUser = "postgres";
    private const string DataFolderName = "data";
    private const string LogFileName = "postgres.log";
    private const int PortAttempts = 5;

    // How long the server may take to start or stop: pg_ctl's own wait, and the connection loop after it.
    private static readonly TimeSpan ReadyBound = TimeSpan.FromSeconds(30);

    // initdb writes a few hundred files and runs the server once in single-user mode; on a busy 2-core machine that takes seconds.
    private static readonly TimeSpan CommandBound = TimeSpan.FromSeconds(90);

    // The servers not disposed yet, which the process exit handler stops when a test run ends without disposing them.
    private static readonly Lock LiveGate = new();
    private static readonly HashSet<PostgresServer> Live = [];
    private static int s_exitHandlerAdded;
    private static readonly Lock TemplateGate = new();
    private static Task<PostgresServer>? s_template;
    private static int s_databases;

    private readonly Binaries _binaries;
    private readonly bool _asSystemUser;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _handedOut = [];
    private bool _disposed;

    private PostgresServer(Binaries binaries, bool asSystemUser, string folder)
    {
        _binaries = binaries;
        _asSystemUser = asSystemUser;
        Folder = folder;
    }

    /// <summary>The temporary folder of the cluster: its data, log and socket. Disposal deletes it.</summary>
    public string Folder { get; }

    /// <summary>The loopback port the server listens on, the same after <see cref="StartAgainAsync"/>.</summary>
    public int Port { get; private set; }

    /// <summary>The superuser <c>postgres</c> on the database <c>postgres</c>, on 127.0.0.1 and <see cref="Port"/>, pooled.</summary>
    public string ConnectionString => ConnectionStringFor("postgres");

    /// <summary>The running server's postmaster process (the parent of every session's process), or null when it does not run.</summary>
    public int? PostmasterProcessId
    {
        get
        {
            try
            {
                var pid = File.ReadLines(Path.Combine(DataFolder, "postmaster.pid")).FirstOrDefault()?.Trim();
                return int.TryParse(pid, CultureInfo.InvariantCulture, out var id) && IsThisServersPostmaster(pid) ? id : null;
            }
            catch (IOException)
            {
                return null;
            }
        }
    }

    private string DataFolder => Path.Combine(Folder, DataFolderName);

    private string LogFile => Path.Combine(Folder, LogFileName);

    /// <summary>
    /// Creates a new cluster in a new temporary folder and starts it on a free loopback port;
    /// returns when it accepts connections.
    /// </summary>
    public static async Task<PostgresServer> StartAsync(CancellationToken ct = default)
    {
        var binaries = Binaries.Find();
        var asSystemUser = Environment.UserName == "root";
        if (asSystemUser && !SystemUserExists())
        {
            throw new InvalidOperationException(
                $"The tests run as root, and initdb refuses to: they run PostgreSQL as the '{SystemUser}' system user, which this machine does not have. "
                + "Install PostgreSQL (apt-get install postgresql), which creates it, or run the tests as another user.");
        }

        AddExitHandler();
        var server = await CreateFolderAsync(binaries, asSystemUser, "comety-pg-", ct);
        try
        {
            // Not cancelled with this start: other starts wait for the template too.
            var template = await TemplateAsync(binaries, asSystemUser).WaitAsync(ct);
            await server.RunServerProgramAsync("cp", ["-a", template.DataFolder, server.DataFolder], ct).ThrowOnFailure("Copying the template cluster");
            await server.StartOnFreePortAsync(ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Creates a new empty database with a name of its own and returns its connection string (the
    /// superuser, pooled): each test on the shared server works in a database no other test sees.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken ct = default)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"comety_{Interlocked.Increment(ref s_databases)}_{Guid.NewGuid():N}");
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync(ct);
        }

        return ConnectionStringFor(name);
    }

    /// <summary>
    /// Stops the server as an administrator would (<c>pg_ctl stop -m fast</c>: sessions are ended,
    /// and the data is kept); <see cref="StartAgainAsync"/> starts it again. The idle connections
    /// Npgsql pools for this server's connection strings are dropped first, so that a test's next
    /// <c>OpenAsync</c> reaches the server rather than a dead pooled connection. (An
    /// <see cref="NpgsqlDataSource"/> has a pool of its own, which the test clears or disposes itself.)
    /// </summary>
    public async Task StopAsync(CancellationToken ct = default)
    {
        ClearPools();
        var (exitCode, output) = await RunServerProgramAsync(_binaries.PgCtl, ["stop", "-D", DataFolder, "-m", "fast", "-w", "-t", Seconds(ReadyBound), "-s"], ct);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"pg_ctl stop failed (exit code {exitCode}): {output}{LogTail()}");
        }
    }

    /// <summary>Starts the server again after <see cref="StopAsync"/>, on the same folder and port.</summary>
    public async Task StartAgainAsync(CancellationToken ct = default)
    {
        var (exitCode, output) = await PgCtlStartAsync(ct);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"pg_ctl start on port {Port} failed (exit code {exitCode}): {output}{LogTail()}");
        }

        await WaitUntilAcceptingAsync(ct);
    }

    /// <summary>Stops the server at once (<c>pg_ctl stop -m immediate</c>) and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        ClearPools();
        if (File.Exists(Path.Combine(DataFolder, "postmaster.pid")))
        {
            try
            {
                await RunServerProgramAsync(_binaries.PgCtl, ["stop", "-D", DataFolder, "-m", "immediate", "-w", "-t", Seconds(ReadyBound), "-s"], CancellationToken.None);
            }
            catch (Exception exception) when (exception is TimeoutException or IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // pg_ctl could not be run or did not finish: the signal does the same.
            }

            StopPostmaster();
        }

        DeleteFolder();
        lock (LiveGate)
        {
            Live.Remove(this);
        }
    }

    private static Task<PostgresServer> TemplateAsync(Binaries binaries, bool asSystemUser)
    {
        lock (TemplateGate)
        {
            return s_template ??= CreateTemplateAsync(binaries, asSystemUser);
        }
    }

    // A folder like a server's, never started: the process exit handler and the watchdog delete it.
    private static async Task<PostgresServer> CreateTemplateAsync(Binaries binaries, bool asSystemUser)
    {
        var template = await CreateFolderAsync(binaries, asSystemUser, "comety-pg-template-", CancellationToken.None);
        try
        {
            await template.RunServerProgramAsync(binaries.InitDb, [
                "-D", template.DataFolder, "-U", Superuser, "--auth=trust", "--encoding=UTF8",
                // The C locale: every machine has it, and text sorts the same on each.
                "--locale=C", "--no-sync",
            ], CancellationToken.None).ThrowOnFailure("initdb");
            return template;
        }
        catch
        {
            await template.DisposeAsync();
            throw;
        }
    }

    // A new temporary folder, the system user's when the tests run as root, watched by a watchdog.
    private static async Task<PostgresServer> CreateFolderAsync(Binaries binaries, bool asSystemUser, string prefix, CancellationToken ct)
    {
        var server = new PostgresServer(binaries, asSystemUser, Directory.CreateTempSubdirectory(prefix).FullName);
        lock (LiveGate)
        {
            Live.Add(server);
        }

        try
        {
            if (asSystemUser)
            {
                // "postgres:" is the user and its login group.
                await RunAsync("chown", [$"{SystemUser}:", server.Folder], server.Folder, CommandBound, ct).ThrowOnFailure("chown");
            }

            server.StartWatchdog();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    // Each one handed out is noted, so that stopping the server can clear its pool.
    private string ConnectionStringFor(string database)
    {
        var connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = IPAddress.Loopback.ToString(),
            Port = Port,
            Username = Superuser,
            Database = database,
            Pooling = true,
        }.ConnectionString;
        lock (_gate)
        {
            _handedOut.Add(connectionString);
        }

        return connectionString;
    }

    private void ClearPools()
    {
        string[] handedOut;
        lock (_gate)
        {
            handedOut = [.. _handedOut];
        }

        foreach (var connectionString in handedOut)
        {
            using var connection = new NpgsqlConnection(connectionString);
            NpgsqlConnection.ClearPool(connection);
        }
    }

    private async Task StartOnFreePortAsync(CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            // A port free a moment ago may be taken by the time the server binds it: then another one.
            Port = FreePort();
            var logBefore = ReadLog().Length;
            var (exitCode, output) = await PgCtlStartAsync(ct);
            if (exitCode == 0)
            {
                await WaitUntilAcceptingAsync(ct);
                return;
            }

            var taken = ReadLog()[logBefore..].Contains("already in use", StringComparison.OrdinalIgnoreCase);
            if (!taken || attempt == PortAttempts)
            {
                throw new InvalidOperationException(
                    $"pg_ctl start on port {Port} failed (exit code {exitCode}, attempt {attempt}): {output}{LogTail()}");
            }
        }
    }

    private Task<(int ExitCode, string Output)> PgCtlStartAsync(CancellationToken ct)
    {
        // pg_ctl hands -o to the shell that starts the server, hence the quotes around the folder.
        var options = string.Create(CultureInfo.InvariantCulture,
            $"-k '{Folder}' -h {IPAddress.Loopback} -p {Port} -c fsync=off -c max_connections=300");
        return RunServerProgramAsync(_binaries.PgCtl, ["start", "-D", DataFolder, "-l", LogFile, "-w", "-t", Seconds(ReadyBound), "-s", "-o", options], ct);
    }

    // pg_ctl -w already waits for the server to say it is ready; this proves it over TCP, the way the tests connect.
    private async Task WaitUntilAcceptingAsync(CancellationToken ct)
    {
        var probe = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, Timeout = 5 }.ConnectionString;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(probe);
                await connection.OpenAsync(ct);
                return;
            }
            catch (NpgsqlException) when (deadline.Elapsed < ReadyBound)
            {
                await Task.Delay(100, ct);
            }
            catch (NpgsqlException exception)
            {
                throw new InvalidOperationException($"The server on port {Port} did not accept connections within {ReadyBound.TotalSeconds} s: {exception.Message}{LogTail()}", exception);
            }
        }
    }

    private Task<(int ExitCode, string Output)> RunServerProgramAsync(string program, IReadOnlyList<string> arguments, CancellationToken ct) =>
        _asSystemUser
            ? RunAsync(Binaries.RunUser(), ["-u", SystemUser, "--", program, .. arguments], Folder, CommandBound, ct)
            : RunAsync(program, arguments, Folder, CommandBound, ct);

    /// <summary>
    /// A shell of its own, outside the test run's process tree (setsid -f), that waits for the test
    /// process to end and then stops the server and deletes the folder, if disposal has not: a test
    /// run that crashes or is killed leaves no server running. It ends by itself once the folder is gone.
    /// </summary>
    private void StartWatchdog()
    {
        if (Binaries.OnPath("setsid") is not { } setsid)
        {
            return;
        }

        const string Script = """
            exec </dev/null >/dev/null 2>&1
            while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done
            [ -d "$2" ] || exit 0
            pid=$(head -n 1 "$2/data/postmaster.pid" 2>/dev/null) || pid=
            case "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" in *"$2/data"*) kill -QUIT "$pid" 2>/dev/null ;; *) pid= ;; esac
            for i in $(seq 1 100); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            rm -rf "$2"
            """;
        var startInfo = new ProcessStartInfo(setsid)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in (string[])["-f", "bash", "-c", Script, "comety-pg-watchdog", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), Folder])
        {
            startInfo.ArgumentList.Add(argument);
        }

        // setsid -f forks the shell and exits at once.
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("setsid did not start.");
        process.WaitForExit(10_000);
    }

    /// <summary>Sends the server SIGQUIT (an immediate shutdown, as <c>pg_ctl stop -m immediate</c>) if it runs, and waits briefly for it to exit.</summary>
    private void StopPostmaster()
    {
        string? pid;
        try
        {
            pid = File.ReadLines(Path.Combine(DataFolder, "postmaster.pid")).FirstOrDefault()?.Trim();
        }
        catch (IOException)
        {
            return;
        }

        if (!int.TryParse(pid, CultureInfo.InvariantCulture, out _) || !IsThisServersPostmaster(pid))
        {
            return;
        }

        // bash's own kill, as ChildProcess does: a machine may have no kill program.
        var startInfo = new ProcessStartInfo("bash") { UseShellExecute = false };
        foreach (var argument in (string[])["-c", """kill -QUIT "$1" 2>/dev/null || exit 0; for i in $(seq 1 100); do kill -0 "$1" 2>/dev/null || exit 0; sleep 0.1; done""", "stop", pid])
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo);
        process?.WaitForExit(15_000);
    }

    // A pid file the server left when it crashed may name a process that has nothing to do with it since.
    private bool IsThisServersPostmaster(string pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains(DataFolder, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private void DeleteFolder()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (Directory.Exists(Folder))
                {
                    Directory.Delete(Folder, recursive: true);
                }

                return;
            }
            catch (IOException) when (attempt < 5)
            {
                // A server process that has not quite exited may still write its last file.
                Thread.Sleep(200);
            }
        }
    }

    private static void AddExitHandler()
    {
        if (Interlocked.Exchange(ref s_exitHandlerAdded, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                PostgresServer[] left;
                lock (LiveGate)
                {
                    left = [.. Live];
                }

                foreach (var server in left)
                {
                    server.StopPostmaster();
                    try
                    {
                        server.DeleteFolder();
                    }
                    catch (IOException)
                    {
                        // The watchdog deletes it once this process is gone.
                    }
                }
            };
        }
    }

    private string ReadLog()
    {
        try
        {
            using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd();
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    private string LogTail()
    {
        var log = ReadLog();
        return log.Length == 0
            ? $"\n(no server log at {LogFile})"
            : $"\nThe end of the server log ({LogFile}):\n{log[Math.Max(0, log.Length - 4000)..]}";
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static bool SystemUserExists()
    {
        try
        {
            return File.ReadLines("/etc/passwd").Any(line => line.StartsWith(SystemUser + ":", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static string Seconds(TimeSpan span) => ((int)span.TotalSeconds).ToString(CultureInfo.InvariantCulture);

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, IReadOnlyList<string> arguments, string workingDirectory, TimeSpan bound, CancellationToken ct)
    {
        // The folder as working directory: under runuser, the postgres user may not be allowed into the test run's own.
        var startInfo = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        var commandLine = $"{program} {string.Join(' ', arguments)}";
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"{commandLine} did not start.");
        process.StandardInput.Close();
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timer.CancelAfter(bound);
        var standardOutput = process.StandardOutput.ReadToEndAsync(timer.Token);
        var standardError = process.StandardError.ReadToEndAsync(timer.Token);
        try
        {
            await process.WaitForExitAsync(timer.Token);
            return (process.ExitCode, (await standardOutput + await standardError).Trim());
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{commandLine} did not finish within {bound.TotalSeconds} s.");
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }

    /// <summary>Where initdb and pg_ctl are: one version's bin folder, so that the two match.</summary>
    private sealed record Binaries(string InitDb, string PgCtl)
    {
        private const string DebianFolder = "/usr/lib/postgresql";

        public static Binaries Find()
        {
            // PATH first: a machine's own choice of version. A link there (as /usr/local/bin/initdb)
            // is followed to the version's folder, whose pg_ctl and postgres belong with it.
            if (OnPath("initdb") is { } initDb)
            {
                var real = File.ResolveLinkTarget(initDb, returnFinalTarget: true)?.FullName ?? initDb;
                foreach (var folder in (string[])[Path.GetDirectoryName(real)!, Path.GetDirectoryName(initDb)!])
                {
                    if (File.Exists(Path.Combine(folder, "pg_ctl")))
                    {
                        return new Binaries(Path.Combine(folder, "initdb"), Path.Combine(folder, "pg_ctl"));
                    }
                }
            }

            // Debian's packages put the server programs in /usr/lib/postgresql/<major version>/bin, off PATH.
            var versions = (Directory.Exists(DebianFolder) ? Directory.GetDirectories(DebianFolder) : [])
                .Select(folder => (Folder: folder, Version: int.TryParse(Path.GetFileName(folder), CultureInfo.InvariantCulture, out var version) ? version : -1))
                .Where(candidate => candidate.Version >= 0)
                .OrderByDescending(candidate => candidate.Version);
            foreach (var (folder, _) in versions)
            {
                var bin = Path.Combine(folder, "bin");
                if (File.Exists(Path.Combine(bin, "initdb")) && File.Exists(Path.Combine(bin, "pg_ctl")))
                {
                    return new Binaries(Path.Combine(bin, "initdb"), Path.Combine(bin, "pg_ctl"));
                }
            }

            throw new InvalidOperationException(
                $"The PostgreSQL tests start a server of their own, and PostgreSQL's server programs (initdb, pg_ctl) are neither on PATH nor in {DebianFolder}/<version>/bin. "
                + "Install them: apt-get install postgresql (bash eng/test.sh does, as root).");
        }

        public static string RunUser() => OnPath("runuser") ?? (File.Exists("/usr/sbin/runuser") ? "/usr/sbin/runuser" : "runuser");

        public static string? OnPath(string program) =>
            (Environment.GetEnvironmentVariable("PATH") ?? "")
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Select(folder => Path.Combine(folder, program))
                .FirstOrDefault(File.Exists);
    }
}

file static class RunResults
{
    public static async Task<(int ExitCode, string Output)> ThrowOnFailure(this Task<(int ExitCode, string Output)> run, string what)
    {
        var (exitCode, output) = await run;
        return exitCode == 0 ? (exitCode, output) : throw new InvalidOperationException($"{what} failed (exit code {exitCode}): {output}");
    }
}
