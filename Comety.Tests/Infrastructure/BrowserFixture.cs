using Microsoft.Playwright;

namespace Comety.Tests.Infrastructure;

/// <summary>
/// One headless Chromium for the browser tests, launched by Playwright; each test opens its own
/// context and page with <see cref="OpenAsync"/>. The browser is Debian's <c>/usr/bin/chromium</c>
/// (eng/test.sh installs it), or the executable that <c>COMETY_CHROMIUM</c> names, or else the
/// one Playwright installed itself.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumVariable = "COMETY_CHROMIUM";
    private const string DebianChromium = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async Task InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync().Bounded();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath(),
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            Timeout = BrowserPage.Timeout,
        }).Bounded();
    }

    /// <summary>Opens a new browser context (its own cookies) and page for a test, on <paramref name="host"/>.</summary>
    public Task<BrowserPage> OpenAsync(TestHost host) => OpenAsync(host.BaseAddress);

    /// <summary>Opens a new browser context (its own cookies) and page for a test, on <paramref name="baseAddress"/> (a <see cref="TestProxy"/>, say).</summary>
    public async Task<BrowserPage> OpenAsync(Uri baseAddress)
    {
        var context = await NewContextAsync(baseAddress);
        try
        {
            return new BrowserPage(context, await context.NewPageAsync().Bounded());
        }
        catch
        {
            await context.CloseAsync().Bounded();
            throw;
        }
    }

    /// <summary>
    /// Opens a new browser context (its own cookies) whose relative URLs go to <paramref name="baseAddress"/>,
    /// with the browser tests' timeouts; <paramref name="options"/> adds settings such as a time zone.
    /// </summary>
    public async Task<IBrowserContext> NewContextAsync(Uri baseAddress, BrowserNewContextOptions? options = null)
    {
        var browser = _browser ?? throw new InvalidOperationException("The browser was not launched.");
        var context = await browser.NewContextAsync(new BrowserNewContextOptions(options ?? new()) { BaseURL = baseAddress.ToString() }).Bounded();
        context.SetDefaultTimeout(BrowserPage.Timeout);
        context.SetDefaultNavigationTimeout(BrowserPage.Timeout);
        return context;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync().Bounded();
        }

        _playwright?.Dispose();
    }

    /// <summary>The Chromium executable to use, or null for the one Playwright installed itself.</summary>
    internal static string? ChromiumPath()
    {
        if (Environment.GetEnvironmentVariable(ChromiumVariable) is { Length: > 0 } configured)
        {
            return File.Exists(configured)
                ? configured
                : throw new InvalidOperationException($"{ChromiumVariable} names '{configured}', which does not exist.");
        }

        return File.Exists(DebianChromium) ? DebianChromium : null;
    }
}
