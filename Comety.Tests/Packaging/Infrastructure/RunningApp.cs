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

    private readonly ChildProcess _process;

    private RunningApp(ChildProcess process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>Everything the application logged so far, for failure messages.</summary>
    public string Output => _process.Output;

    /// <summary>Starts the application in <paramref name="contentRoot"/> and waits until Kestrel says where it listens.</summary>
    public static async Task<RunningApp> StartAsync(string contentRoot, string assemblyPath)
    {
        var environment = new Dictionary<string, string?>
        {
            // Development serves static web assets from where the build left them, without a publish.
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            // --urls alone decides where it listens.
            ["ASPNETCORE_URLS"] = null,
            ["ASPNETCORE_HTTP_PORTS"] = null,
            ["ASPNETCORE_HTTPS_PORTS"] = null,
            ["DOTNET_URLS"] = null,
        };
        var process = DotNet.Start(contentRoot, environment, assemblyPath, "--urls", "http://127.0.0.1:0");
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

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    [GeneratedRegex(@"Now listening on: (?<address>http://[^\s""]+)")]
    private static partial Regex ListeningPattern();
}
