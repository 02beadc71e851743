using System.Diagnostics;
using System.Globalization;
using Microsoft.Playwright;

namespace Comety.Tests.Infrastructure;

/// <summary>
/// A Chromium of a test's own whose tabs behave as a person's do: tabs of one window, the one in
/// front visible and the others hidden, and tabs the browser can freeze (Page Lifecycle API).
/// Playwright's own launch (<see cref="BrowserFixture"/>) emulates focus in every page it opens,
/// which keeps each of them visible, and Chromium freezes only hidden pages: so this browser is
/// started apart, with a DevTools port, and driven over CDP without Playwright's page defaults (which
/// apply to the pages of its default context only when it is connected so).
/// </summary>
public sealed class LifecycleBrowser : IAsyncDisposable
{
    private readonly Process _process;
    private readonly DirectoryInfo _profile;
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;
    private readonly Uri _baseAddress;

    private LifecycleBrowser(Process process, DirectoryInfo profile, IPlaywright playwright, IBrowser browser, Uri baseAddress)
    {
        _process = process;
        _profile = profile;
        _playwright = playwright;
        _browser = browser;
        _baseAddress = baseAddress;
    }

    /// <summary>The browser's one context: its tabs share cookies, as tabs of one browser do.</summary>
    public IBrowserContext Context => _browser.Contexts[0];

    /// <summary>Starts the browser for pages of <paramref name="host"/>.</summary>
    public static async Task<LifecycleBrowser> StartAsync(TestHost host)
    {
        var playwright = await Playwright.CreateAsync().Bounded();
        var profile = Directory.CreateTempSubdirectory("comety-chromium-");
        Process? process = null;
        try
        {
            var start = new ProcessStartInfo(BrowserFixture.ChromiumPath() ?? playwright.Chromium.ExecutablePath)
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            foreach (var argument in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check", "--remote-debugging-port=0", "--user-data-dir=" + profile.FullName, "about:blank"])
            {
                start.ArgumentList.Add(argument);
            }

            process = Process.Start(start) ?? throw new InvalidOperationException("Chromium did not start.");
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();

            // Chromium writes the port it chose into the profile once it listens.
            var portFile = Path.Combine(profile.FullName, "DevToolsActivePort");
            using var timeout = new CancellationTokenSource(TestEvents.Bound);
            string? port = null;
            while (port is null)
            {
                if (File.Exists(portFile) && File.ReadAllLines(portFile) is [{ Length: > 0 } first, ..])
                {
                    port = first;
                }
                else
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(20), timeout.Token);
                }
            }

            var browser = await playwright.Chromium.ConnectOverCDPAsync(
                $"http://127.0.0.1:{int.Parse(port, CultureInfo.InvariantCulture)}",
                new BrowserTypeConnectOverCDPOptions { NoDefaults = true, Timeout = BrowserPage.Timeout }).Bounded();
            browser.Contexts[0].SetDefaultTimeout(BrowserPage.Timeout);
            browser.Contexts[0].SetDefaultNavigationTimeout(BrowserPage.Timeout);
            return new LifecycleBrowser(process, profile, playwright, browser, host.BaseAddress);
        }
        catch
        {
            Stop(process, profile);
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>Opens a tab in front of the others: it is visible, and the tab that was in front is hidden.</summary>
    public async Task<BrowserPage> NewTabAsync() => new(Context, await Context.NewPageAsync().Bounded(), ownsContext: false, _baseAddress);

    /// <summary>Sets a tab's lifecycle state as the browser does: 'frozen' (it is hidden first) or 'active'.</summary>
    public async Task SetLifecycleStateAsync(BrowserPage tab, string state)
    {
        // Each its own session, left attached: the browser's state is the page's, not the session's.
        var session = await Context.NewCDPSessionAsync(tab.Page).Bounded();
        await session.SendAsync("Page.setWebLifecycleState", new Dictionary<string, object> { ["state"] = state }).Bounded();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _browser.CloseAsync().Bounded();
        }
        finally
        {
            Stop(_process, _profile);
            _playwright.Dispose();
        }
    }

    private static void Stop(Process? process, DirectoryInfo profile)
    {
        if (process is not null)
        {
            try
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(TimeSpan.FromSeconds(10));
            }
            catch (InvalidOperationException)
            {
                // It exited already.
            }

            process.Dispose();
        }

        try
        {
            profile.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a process that is going: the temporary directory keeps it.
        }
    }
}
