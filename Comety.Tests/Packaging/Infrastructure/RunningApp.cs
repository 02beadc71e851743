using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Comety.Tests.Packaging.Infrastructure;

/// <summary>
/// A built application running in a process of its own, as <c>dotnet &lt;its dll&gt;</c> runs it, on a
/// free port of 127.0.0.1; disposing kills it with its children.
/// </summary>
internal sealed partial class RunningApp : IAsyncDisposable
{
    /// <summary>How long the application may take to start listening.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long the application may take to stop: its waiting polls are answered at once.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly ChildProcess _process;

    private RunningApp(ChildProcess process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>Everything the application logged so far, for failure messages.</summary>
    public string Output => _process.Output;

    /// <summary>Waits until the application logs a line that matches <paramref name="pattern"/>, and fails the test, showing the log, unless it does within <paramref name="timeout"/>.</summary>
    public async Task<Match> WaitForLogAsync(Regex pattern, TimeSpan timeout)
    {
        var match = await _process.WaitForLineAsync(pattern, timeout);
        Assert.True(match is not null, $"The application did not log a line that matches '{pattern}' within {timeout}. It logged:\n{Output}");
        return match;
    }

    /// <summary>
    /// Starts the application in <paramref name="contentRoot"/> and waits until Kestrel says where it
    /// listens: on <paramref name="port"/> of 127.0.0.1, or a free one when 0. <paramref name="environment"/>
    /// adds variables, such as configuration (<c>Comety__HeartbeatTimeout</c>).
    /// </summary>
    public static async Task<RunningApp> StartAsync(string contentRoot, string assemblyPath, IReadOnlyDictionary<string, string?>? environment = null, int port = 0)
    {
        var variables = new Dictionary<string, string?>(environment ?? new Dictionary<string, string?>())
        {
            // Development serves static web assets from where the build left them, without a publish.
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            // --urls alone decides where it listens.
            ["ASPNETCORE_URLS"] = null,
            ["ASPNETCORE_HTTP_PORTS"] = null,
            ["ASPNETCORE_HTTPS_PORTS"] = null,
            ["DOTNET_URLS"] = null,
        };
        var process = DotNet.Start(contentRoot, variables, assemblyPath, "--urls", string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
        try
        {
            var listening = await process.WaitForLineAsync(ListeningPattern(), StartTimeout);
            if (listening is null)
            {
                // It closed its output, so it is ending; or it is stuck, and is killed here.
                var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(5));
                var failure = exitCode is null ? $"did not say where it listens within {StartTimeout}" : $"exited with {exitCode} before it listened";
                Assert.Fail($"`{process.CommandLine}` {failure}. It printed:\n{process.Output}");
            }

            return new RunningApp(process, new Uri(listening.Groups["address"].Value));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client for the application that keeps the cookies it sets, as a browser does.</summary>
    public HttpClient CreateClient() =>
        new(new SocketsHttpHandler { CookieContainer = new CookieContainer(), UseCookies = true })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>
    /// Stops the application as a restart does (SIGTERM, then its graceful shutdown), and fails the
    /// test unless it exits within <see cref="StopTimeout"/>: waiting polls must not hold it up.
    /// </summary>
    public async Task StopAsync()
    {
        var exitCode = await _process.StopAsync(StopTimeout);
        Assert.True(exitCode is not null, $"The application did not stop within {StopTimeout} of SIGTERM and was killed. It logged:\n{Output}");
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    [GeneratedRegex(@"Now listening on: (?<address>http://[^\s""]+)")]
    private static partial Regex ListeningPattern();
}
