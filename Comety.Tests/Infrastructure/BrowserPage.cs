using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Playwright;

namespace Comety.Tests.Infrastructure;

/// <summary>
/// A test's own browser context and page: opens the test page, reads what its handler and error
/// handler recorded (<c>window.received</c>, <c>window.errors</c>), waits for them with a bound,
/// and keeps every request the page sent to the updates URL.
/// </summary>
public sealed class BrowserPage : IAsyncDisposable
{
    /// <summary>Milliseconds any one Playwright operation may take (<see cref="TestEvents.Bound"/>).</summary>
    public const float Timeout = 10_000;

    /// <summary>The updates URL of the test page, as a Playwright glob that also matches its query.</summary>
    public const string UpdatesGlob = "**/test/updates**";

    /// <summary>jQuery 4, restored from Comety.Tests/libman.json into the test project's wwwroot.</summary>
    public const string JQuery4Path = "/lib/jquery4/dist/jquery.min.js";

    private const string UpdatesPath = "/test/updates";

    private const string PagePath = "/test/page";

    private readonly IBrowserContext _context;
    private readonly bool _ownsContext;
    private readonly Uri? _baseAddress;
    private readonly ConcurrentQueue<IRequest> _updates = new();
    private readonly ConcurrentQueue<IRequest> _pageLoads = new();
    private readonly ConcurrentQueue<IRequest> _failedUpdates = new();
    private readonly ConcurrentQueue<string> _console = new();
    private readonly Lock _waitersLock = new();
    private readonly List<(Func<string, bool> Matches, TaskCompletionSource<string> Seen)> _consoleWaiters = [];

    /// <param name="baseAddress">Where the test page is, for a context without a base URL of its own (see <see cref="LifecycleBrowser"/>).</param>
    public BrowserPage(IBrowserContext context, IPage page, bool ownsContext = true, Uri? baseAddress = null)
    {
        _context = context;
        _ownsContext = ownsContext;
        _baseAddress = baseAddress;
        Page = page;
        page.Request += (_, request) =>
        {
            if (IsUpdates(request))
            {
                _updates.Enqueue(request);
            }
            else if (request.IsNavigationRequest && new Uri(request.Url).AbsolutePath == PagePath)
            {
                _pageLoads.Enqueue(request);
            }
        };
        page.RequestFailed += (_, request) =>
        {
            if (IsUpdates(request))
            {
                _failedUpdates.Enqueue(request);
            }
        };
        page.Console += (_, message) => Note($"{message.Type}: {message.Text}");
        page.PageError += (_, error) => Note($"page error: {error}");
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                _console.Enqueue($"HTTP {response.Status}: {response.Request.Method} {response.Url}");
            }
        };
    }

    public IPage Page { get; }

    /// <summary>The polls (<c>GET</c>s of the updates URL) the page sent so far, in order.</summary>
    public IReadOnlyList<IRequest> Polls => [.. _updates.Where(static r => r.Method == "GET")];

    /// <summary>The streams (<c>GET</c>s of the updates URL that accept <c>text/event-stream</c>) the page opened so far, in order.</summary>
    public IReadOnlyList<IRequest> Streams => [.. Polls.Where(IsStream)];

    /// <summary>The requests to the updates URL that failed or were aborted (a stream the page ended, say), in order.</summary>
    public IReadOnlyList<IRequest> FailedUpdates => [.. _failedUpdates];

    /// <summary>The sends (<c>POST</c>s to the updates URL) the page made so far, in order.</summary>
    public IReadOnlyList<IRequest> Sends => [.. _updates.Where(static r => r.Method == "POST")];

    /// <summary>How many times the browser asked for the test page: the first load, and every reload since.</summary>
    public int PageLoads => _pageLoads.Count;

    /// <summary>Whether a request goes to the updates URL.</summary>
    public static bool IsUpdates(IRequest request) => new Uri(request.Url).AbsolutePath == UpdatesPath;

    /// <summary>Whether a GET of the updates URL asked for a stream (protocol version 2) rather than a poll.</summary>
    public static bool IsStream(IRequest request) =>
        request.Headers.GetValueOrDefault("accept")?.Contains("text/event-stream", StringComparison.Ordinal) == true;

    /// <summary>The <c>Last-Event-ID</c> header of a stream, or null when it has none.</summary>
    public static long? LastEventIdOf(IRequest stream) =>
        stream.Headers.GetValueOrDefault("last-event-id") is { } value ? long.Parse(value, CultureInfo.InvariantCulture) : null;

    /// <summary>The <c>confirm</c> parameter of a poll, or null when it has none.</summary>
    public static long? ConfirmOf(IRequest poll) =>
        QueryHelpers.ParseQuery(new Uri(poll.Url).Query).TryGetValue("confirm", out var value)
            ? long.Parse(value.ToString(), CultureInfo.InvariantCulture)
            : null;

    /// <summary>
    /// Opens the test page for <paramref name="user"/> (which registers it) with jQuery from
    /// <paramref name="jquery"/>, or the library's own; <paramref name="more"/> adds settings of the
    /// test page's query (see <c>TestPagesController</c>).
    /// </summary>
    /// <param name="postBetween">When given, the server posts an event of this type after reading the page's position and before rendering it.</param>
    public async Task OpenAsync(string user, string? jquery = null, bool autoStart = true, IReadOnlyDictionary<string, string?>? more = null, string? postBetween = null)
    {
        var query = new Dictionary<string, string?> { ["user"] = user, ["autoStart"] = autoStart ? "true" : "false" };
        if (jquery is not null)
        {
            query["jquery"] = jquery;
        }

        if (postBetween is not null)
        {
            query["postBetween"] = postBetween;
        }

        foreach (var (name, value) in more ?? new Dictionary<string, string?>())
        {
            query[name] = value;
        }

        var address = QueryHelpers.AddQueryString(PagePath, query);
        var response = await Page.GotoAsync(_baseAddress is null ? address : new Uri(_baseAddress, address).ToString()).Bounded();
        Assert.True(response is { Ok: true }, $"The test page failed to load: {response?.Status}.");
        Assert.Equal(user, await Page.InnerTextAsync("#user").Bounded());
    }

    /// <summary>
    /// Waits until the page (any load of it) writes a console message or throws an error whose text
    /// contains <paramref name="text"/>, and returns it as <see cref="DescribeAsync"/> lists it.
    /// </summary>
    public async Task<string> WaitForConsoleAsync(string text)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool Matches(string message) => message.Contains(text, StringComparison.Ordinal);
        lock (_waitersLock)
        {
            if (_console.FirstOrDefault(Matches) is { } earlier)
            {
                return earlier;
            }

            _consoleWaiters.Add((Matches, seen));
        }

        try
        {
            return await seen.Task.WaitAsync(TimeSpan.FromMilliseconds(Timeout));
        }
        catch (TimeoutException e)
        {
            throw new Xunit.Sdk.XunitException($"Waited {Timeout} ms in vain for a console message with '{text}'.{Environment.NewLine}{await DescribeAsync()}", e);
        }
    }

    /// <summary>Runs a JavaScript expression or function in the page and returns its value.</summary>
    public Task<T> EvaluateAsync<T>(string expression, object? arg = null) => Page.EvaluateAsync<T>(expression, arg).Bounded();

    /// <summary>The events the page's handler received, in the order it received them.</summary>
    public async Task<IReadOnlyList<BrowserEvent>> ReceivedAsync()
    {
        var json = await EvaluateAsync<string>("() => JSON.stringify(window.received)");
        using var document = JsonDocument.Parse(json);
        return [.. document.RootElement.EnumerateArray().Select(BrowserEvent.Parse)];
    }

    /// <summary>The HTTP statuses the page's error handler was called with, in order (0 for a network failure).</summary>
    public async Task<IReadOnlyList<int>> ErrorStatusesAsync() =>
        await EvaluateAsync<int[]>("() => window.errors.map(e => e.status)");

    /// <summary>Whether the page's poll loop runs (<c>comety.isRunning()</c>).</summary>
    public Task<bool> IsRunningAsync() => EvaluateAsync<bool>("() => comety.isRunning()");

    /// <summary>Waits until the page's handler has received at least <paramref name="count"/> events.</summary>
    public Task WaitForReceivedAsync(int count) =>
        WaitUntilAsync("n => window.received.length >= n", count, $"{count} events received");

    /// <summary>Waits until a JavaScript predicate holds in the page, and fails with what the page saw if it does not within the bound.</summary>
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

    /// <summary>What the page saw so far, for failure messages.</summary>
    public async Task<string> DescribeAsync()
    {
        string state;
        try
        {
            state = await EvaluateAsync<string>("() => JSON.stringify({ received: window.received, errors: window.errors, running: comety.isRunning() })");
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException)
        {
            state = $"(the page could not be read: {e.Message})";
        }

        return string.Join(
            Environment.NewLine,
            [$"page state: {state}", $"page loads: {PageLoads}", "updates requests:", .. _updates.Select(static r => $"  {r.Method} {r.Url}{(IsStream(r) ? $" (stream, Last-Event-ID {r.Headers.GetValueOrDefault("last-event-id") ?? "none"})" : "")}"), "console:", .. _console.Select(static m => $"  {m}")]);
    }

    /// <summary>Opens another tab in the same browser context: the same cookies, so the same user.</summary>
    public async Task<BrowserPage> NewTabAsync() => new(_context, await _context.NewPageAsync().Bounded(), ownsContext: false, _baseAddress);

    public async ValueTask DisposeAsync()
    {
        if (_ownsContext)
        {
            await _context.CloseAsync().Bounded();
        }
        else
        {
            await Page.CloseAsync().Bounded();
        }
    }

    private void Note(string message)
    {
        lock (_waitersLock)
        {
            _console.Enqueue(message);
            foreach (var (matches, seen) in _consoleWaiters)
            {
                if (matches(message))
                {
                    seen.TrySetResult(message);
                }
            }
        }
    }
}
