using System.Collections.Concurrent;
using System.Text.Json;
using Comety.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Comety.Tests.Packaging.Infrastructure;

/// <summary>
/// One visitor of the README's application in Chromium: a browser context of its own (its own
/// session) and a page, with what the page loaded, polled and wrote to its console kept as it
/// happens, what the layout's handler shows, and bounded waits for it.
/// </summary>
internal sealed class ReadmeAppPage : IAsyncDisposable
{
    /// <summary>The updates URL of the README's <c>ChatUpdatesController</c>.</summary>
    public const string UpdatesPath = "/chat/updates";

    private const float Timeout = BrowserPage.Timeout;

    private readonly IBrowserContext _context;
    private readonly ConcurrentQueue<IRequest> _navigations = new();
    private readonly ConcurrentQueue<IRequest> _polls = new();
    private readonly ConcurrentQueue<string> _console = new();
    private readonly Lock _waitersLock = new();
    private readonly List<(string Text, TaskCompletionSource<string> Seen)> _consoleWaiters = [];

    private ReadmeAppPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Request += (_, request) =>
        {
            // A navigation of the page itself, not a redirect's next step: the first load, a reload,
            // a link followed; each is one page load.
            if (request.IsNavigationRequest && request.Frame.ParentFrame is null && request.RedirectedFrom is null)
            {
                _navigations.Enqueue(request);
            }
            else if (request.Method == "GET" && new Uri(request.Url).AbsolutePath == UpdatesPath)
            {
                _polls.Enqueue(request);
            }
        };
        page.Console += (_, message) => Note($"{message.Type}: {message.Text}");
        page.PageError += (_, error) => Note($"page error: {error}");
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                Note($"HTTP {response.Status}: {response.Request.Method} {response.Url}");
            }
        };
    }

    public IPage Page { get; }

    /// <summary>How many pages the browser loaded so far: the first load, and every reload or navigation since.</summary>
    public int Loads => _navigations.Count;

    /// <summary>The polls (<c>GET</c>s of the updates URL) the page sent so far, in order.</summary>
    public IReadOnlyList<IRequest> Polls => [.. _polls];

    public static async Task<ReadmeAppPage> OpenAsync(BrowserFixture browser, Uri baseAddress)
    {
        var context = await browser.NewContextAsync(baseAddress);
        try
        {
            return new ReadmeAppPage(context, await context.NewPageAsync().Bounded());
        }
        catch
        {
            await context.CloseAsync().Bounded();
            throw;
        }
    }

    /// <summary>Opens <paramref name="path"/> and waits for its load event; fails unless it answered 200.</summary>
    public async Task GotoAsync(string path)
    {
        var response = await Page.GotoAsync(path).Bounded();
        Assert.True(response is { Status: 200 }, $"GET {path} answered {response?.Status}.{Environment.NewLine}{await DescribeAsync()}");
    }

    /// <summary>Signs in as <paramref name="userId"/> with the application's sign-in, which leads to the room's page.</summary>
    public Task SignInAsync(string userId) => GotoAsync($"{ReadmeAppOwnCode.SignInPath}?userId={Uri.EscapeDataString(userId)}");

    /// <summary>Waits until every jQuery ready handler the page had when it loaded (auto-start's among them) has run.</summary>
    public Task WaitForReadyHandlersAsync() =>
        EvaluateAsync<bool>("() => new Promise(resolve => jQuery(() => resolve(true)))");

    /// <summary>Runs a JavaScript function in the page for what it does.</summary>
    public Task RunAsync(string script) => Page.EvaluateAsync(script).Bounded();

    public Task<T> EvaluateAsync<T>(string expression, object? arg = null) => Page.EvaluateAsync<T>(expression, arg).Bounded();

    /// <summary>Whether the page's poll loop runs (<c>comety.isRunning()</c>).</summary>
    public Task<bool> IsRunningAsync() => EvaluateAsync<bool>("() => comety.isRunning()");

    /// <summary>The <c>text</c> of each event the layout's handler showed on the page (other events as their JSON), in order.</summary>
    public async Task<IReadOnlyList<string>> ShownAsync()
    {
        var shown = await EvaluateAsync<string[]>("() => Array.from(document.querySelectorAll('main p.comety-event')).map(p => p.textContent)");
        return [.. shown.Select(static json =>
        {
            using var args = JsonDocument.Parse(json);
            return args.RootElement.TryGetProperty("text", out var text) ? text.GetString() ?? json : json;
        })];
    }

    /// <summary>The room's messages as the page was rendered with them.</summary>
    public async Task<IReadOnlyList<string>> RenderedMessagesAsync() =>
        await EvaluateAsync<string[]>("() => Array.from(document.querySelectorAll('#messages > li')).map(li => li.textContent)");

    /// <summary>Waits until the layout's handler shows an event whose <c>text</c> is <paramref name="text"/>.</summary>
    public Task WaitForShownAsync(string text) =>
        WaitUntilAsync(
            "text => Array.from(document.querySelectorAll('main p.comety-event')).some(p => JSON.parse(p.textContent).text === text)",
            text,
            $"the event '{text}' on the page");

    /// <summary>Waits until a JavaScript predicate holds in the page (in whichever load of it is current), and fails with what the page saw if it does not.</summary>
    public async Task WaitUntilAsync(string predicate, object? arg, string what)
    {
        try
        {
            await Page.WaitForFunctionAsync(predicate, arg, new PageWaitForFunctionOptions { Timeout = Timeout, PollingInterval = 25 }).Bounded();
        }
        catch (TimeoutException e)
        {
            throw new Xunit.Sdk.XunitException($"Waited {Timeout} ms in vain for {what}.{Environment.NewLine}{await DescribeAsync()}", e);
        }
    }

    /// <summary>Waits until the page (any load of it) writes a console message that contains <paramref name="text"/>, and returns it.</summary>
    public async Task<string> WaitForConsoleAsync(string text, TimeSpan within)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waitersLock)
        {
            if (_console.FirstOrDefault(m => m.Contains(text, StringComparison.Ordinal)) is { } earlier)
            {
                return earlier;
            }

            _consoleWaiters.Add((text, seen));
        }

        try
        {
            return await seen.Task.WaitAsync(within);
        }
        catch (TimeoutException e)
        {
            throw new Xunit.Sdk.XunitException($"Waited {within} in vain for a console message with '{text}'.{Environment.NewLine}{await DescribeAsync()}", e);
        }
    }

    /// <summary>What the page saw so far, for failure messages.</summary>
    public async Task<string> DescribeAsync()
    {
        string shown;
        try
        {
            shown = await EvaluateAsync<string>("() => JSON.stringify({ url: location.href, running: typeof comety === 'object' && comety.isRunning(), shown: Array.from(document.querySelectorAll('main p.comety-event')).map(p => p.textContent) })");
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException)
        {
            shown = $"(the page could not be read: {e.Message})";
        }

        return string.Join(
            Environment.NewLine,
            [
                $"page: {shown}",
                $"page loads: {Loads}",
                .. _navigations.Select(static r => $"  {r.Method} {r.Url}"),
                "polls:",
                .. _polls.Select(static r => $"  {r.Url}"),
                "console:",
                .. _console.Select(static m => $"  {m}"),
            ]);
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync().Bounded();

    private void Note(string message)
    {
        lock (_waitersLock)
        {
            _console.Enqueue(message);
            foreach (var (text, seen) in _consoleWaiters)
            {
                if (message.Contains(text, StringComparison.Ordinal))
                {
                    seen.TrySetResult(message);
                }
            }
        }
    }
}
