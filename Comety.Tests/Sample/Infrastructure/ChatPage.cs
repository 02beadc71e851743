using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Comety.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Comety.Tests.Sample.Infrastructure;

/// <summary>
/// One person in the sample chat: a browser context of its own (its own session cookie, so its
/// own Comety user) and a page, with what people do there (create a room, join it, say something,
/// reload) and bounded waits for what the room page shows.
/// </summary>
public sealed partial class ChatPage : IAsyncDisposable
{
    /// <summary>How long a wait for a message gives it: latency is measured by the load test, not asserted here.</summary>
    public static readonly TimeSpan MessageWait = TimeSpan.FromSeconds(5);

    private const string UpdatesPath = "/chat/updates";

    // Test instrumentation, run before the page's own scripts: notes when each line enters the
    // conversation, by the page's clock, so that a test can tell how long a message took to show.
    private const string ArrivalRecorder = """
        window.lineArrivals = [];
        document.addEventListener('DOMContentLoaded', () => {
            const lines = document.getElementById('lines');
            if (!lines) {
                return;
            }
            new MutationObserver(records => {
                const at = Date.now();
                for (const record of records) {
                    for (const node of record.addedNodes) {
                        if (node.nodeType === Node.ELEMENT_NODE && node.matches('li.line')) {
                            const text = node.querySelector('.text');
                            window.lineArrivals.push({ seq: Number(node.getAttribute('data-seq')), text: text ? text.textContent : null, at: at });
                        }
                    }
                }
            }).observe(lines, { childList: true });
        });
        """;

    // A stream's body is still open when a test reads it, so Playwright cannot give it: the page's
    // fetch hands its streams' bodies on through a tee, and keeps a copy of every byte in
    // window.streamedText (one string per stream), as the server sent them.
    private const string StreamRecorder = """
        window.streamedText = [];
        (() => {
            const original = window.fetch;
            window.fetch = function (input, init) {
                const accept = init && init.headers ? (init.headers.Accept || init.headers.accept || '') : '';
                const answer = original.apply(this, arguments);
                if (accept.indexOf('text/event-stream') < 0) {
                    return answer;
                }
                return answer.then(response => {
                    if (!response.body) {
                        return response;
                    }
                    const [copy, page] = response.body.tee();
                    const index = window.streamedText.push('') - 1;
                    const reader = copy.getReader();
                    const decoder = new TextDecoder();
                    const step = () => reader.read().then(chunk => {
                        if (!chunk.done) {
                            window.streamedText[index] += decoder.decode(chunk.value, { stream: true });
                            step();
                        }
                    }, () => { });
                    step();
                    return new Response(page, { status: response.status, statusText: response.statusText, headers: response.headers });
                });
            };
        })();
        """;

    private const string ReadLines = """
        () => JSON.stringify(Array.from(document.querySelectorAll('#lines > li')).map(li => {
            const part = selector => { const el = li.querySelector(selector); return el ? el.textContent : null; };
            return {
                sequence: Number(li.getAttribute('data-seq')),
                kind: ['message', 'join', 'leave'].find(k => li.classList.contains(k)) || li.className,
                name: part('.who'),
                text: part('.text'),
                notice: part('.notice'),
                time: part('time'),
                content: li.textContent.replace(/\s+/g, ' ').trim()
            };
        }))
        """;

    private readonly IBrowserContext _context;
    private readonly bool _ownsContext;
    private readonly SampleProcess _sample;
    private readonly ConcurrentQueue<string> _console = new();
    private readonly ConcurrentQueue<string> _dialogs = new();
    private readonly ConcurrentQueue<Task<string>> _pollAnswers = new();

    private ChatPage(IBrowserContext context, IPage page, SampleProcess sample, bool ownsContext = true)
    {
        _context = context;
        _ownsContext = ownsContext;
        _sample = sample;
        Page = page;
        page.Console += (_, message) => _console.Enqueue($"{message.Type}: {message.Text}");
        page.PageError += (_, error) => _console.Enqueue($"page error: {error}");
        page.Response += (_, response) =>
        {
            if (response.Request.Method == "GET" && new Uri(response.Url).AbsolutePath == UpdatesPath && !BrowserPage.IsStream(response.Request))
            {
                _pollAnswers.Enqueue(BodyOfAsync(response));
            }

            if (response.Status >= 400)
            {
                _console.Enqueue($"HTTP {response.Status}: {response.Request.Method} {response.Url}");
            }
        };
        page.Dialog += (_, dialog) =>
        {
            _dialogs.Enqueue($"{dialog.Type}: {dialog.Message}");
            _ = dialog.DismissAsync();
        };
    }

    public IPage Page { get; }

    /// <summary>Gets the dialogs (alerts and the like) the page opened; each was dismissed.</summary>
    public IReadOnlyCollection<string> Dialogs => _dialogs;

    /// <summary>Opens a new person's context and page on the sample; <paramref name="options"/> can set a time zone, a viewport.</summary>
    public static async Task<ChatPage> OpenAsync(BrowserFixture browser, SampleProcess sample, BrowserNewContextOptions? options = null)
    {
        var context = await browser.NewContextAsync(sample.BaseAddress, options);
        try
        {
            await context.AddInitScriptAsync(ArrivalRecorder).Bounded();
            await context.AddInitScriptAsync(StreamRecorder).Bounded();
            return new ChatPage(context, await context.NewPageAsync().Bounded(), sample);
        }
        catch
        {
            await context.CloseAsync().Bounded();
            throw;
        }
    }

    /// <summary>A room name no other test uses.</summary>
    public static string NewRoomName(string topic) => $"{topic} {Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Creates a room with the form on the room list and returns its slug, from the page it leads to.</summary>
    public async Task<string> CreateRoomAsync(string name)
    {
        await GotoAsync("/");
        await Page.FillAsync("#new-room", name).Bounded();
        await Page.ClickAsync("form[action='/rooms'] button[type=submit]").Bounded();
        // Waits for the room page's join form, not for the page's load event (what WaitForURLAsync
        // waits for): a CI run once saw the room's URL committed and the network idle, but no load
        // event within 10 s.
        await Page.Locator("form[action$='/join']").WaitForAsync().Bounded();
        var room = RoomUrl().Match(Page.Url);
        Assert.True(room.Success, $"Creating the room {name} led to {Page.Url}, not a room's page.");
        return room.Groups["slug"].Value;
    }

    /// <summary>Opens a room's page and submits its join form with <paramref name="name"/>; returns the answer to the form's <c>POST</c>.</summary>
    public async Task<IResponse> SubmitJoinAsync(string slug, string name)
    {
        await GotoAsync($"/rooms/{slug}");
        await Page.FillAsync("#name", name).Bounded();
        var response = await Page.RunAndWaitForResponseAsync(
            () => Page.ClickAsync("form[action$='/join'] button[type=submit]"),
            r => r.Request.Method == "POST" && new Uri(r.Url).AbsolutePath == $"/rooms/{slug}/join").Bounded();
        // Either the room (after the redirect) or the join form again, with its error.
        await Page.Locator(".chat, .joining .error").First.WaitForAsync().Bounded();
        return response;
    }

    /// <summary>Joins a room under <paramref name="name"/> and waits until the room page receives updates.</summary>
    public async Task JoinAsync(string slug, string name)
    {
        var response = await SubmitJoinAsync(slug, name);
        if (response.Status != 302)
        {
            throw new Xunit.Sdk.XunitException($"Joining {slug} as {name} answered {response.Status}, not a redirect to the room.{Environment.NewLine}{await DescribeAsync()}");
        }

        await WaitUntilReceivingAsync();
    }

    /// <summary>Types <paramref name="text"/> and sends it; returns the page's clock (ms) just before the click, once the server took the message.</summary>
    public async Task<double> SayAsync(string text)
    {
        await Page.FillAsync("#message", text).Bounded();
        var sentAt = await EvaluateAsync<double>("() => Date.now()");
        var response = await Page.RunAndWaitForResponseAsync(
            () => Page.ClickAsync("#composer button[type=submit]"),
            r => r.Request.Method == "POST" && new Uri(r.Url).AbsolutePath == UpdatesPath).Bounded();
        if (response.Status != 204)
        {
            throw new Xunit.Sdk.XunitException($"Sending '{text}' answered {response.Status}.{Environment.NewLine}{await DescribeAsync()}");
        }

        return sentAt;
    }

    /// <summary>
    /// Types <paramref name="text"/> and sends it, and sends it again while the answer says it did
    /// not reach a server (502 or 503 from a load balancer whose instance is down); returns the
    /// page's clock (ms) just before the click that was taken, and how many tries it took.
    /// </summary>
    public async Task<(double SentAt, int Tries)> SayThroughOutagesAsync(string text, int maxTries = 20)
    {
        await Page.FillAsync("#message", text).Bounded();
        for (var tries = 1; ; tries++)
        {
            var sentAt = await EvaluateAsync<double>("() => Date.now()");
            var response = await Page.RunAndWaitForResponseAsync(
                () => Page.ClickAsync("#composer button[type=submit]"),
                r => r.Request.Method == "POST" && new Uri(r.Url).AbsolutePath == UpdatesPath).Bounded();
            if (response.Status == 204)
            {
                return (sentAt, tries);
            }

            if (response.Status is not (502 or 503) || tries == maxTries)
            {
                throw new Xunit.Sdk.XunitException($"Sending '{text}' answered {response.Status} (try {tries}).{Environment.NewLine}{await DescribeAsync()}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Waits until the conversation shows <paramref name="name"/> saying <paramref name="text"/>.</summary>
    public Task WaitForMessageAsync(string name, string text, TimeSpan? within = null) =>
        WaitUntilAsync(
            "([name, text]) => Array.from(document.querySelectorAll('#lines > li.message')).some(li => li.querySelector('.who')?.textContent === name && li.querySelector('.text')?.textContent === text)",
            new[] { name, text },
            $"the message '{name}: {text}'",
            within);

    /// <summary>Waits until the conversation shows a join or leave notice such as <c>Bob left</c>.</summary>
    public Task WaitForNoticeAsync(string notice, TimeSpan? within = null) =>
        WaitUntilAsync(
            "notice => Array.from(document.querySelectorAll('#lines > li .notice')).some(n => n.textContent.trim() === notice)",
            notice,
            $"the notice '{notice}'",
            within);

    /// <summary>When (the page's clock, ms) the message <paramref name="text"/> entered the conversation after the page loaded, or null.</summary>
    public Task<double?> ArrivalOfAsync(string text) =>
        EvaluateAsync<double?>("text => { const a = window.lineArrivals.find(a => a.text === text); return a ? a.at : null; }", text);

    /// <summary>
    /// The bodies of the answers to the page's polls so far, and the text of its streams in the
    /// current load of the page: every event the server sent it.
    /// </summary>
    public async Task<IReadOnlyList<string>> PollAnswersAsync() =>
        [.. await Task.WhenAll(_pollAnswers).Bounded(), .. await EvaluateAsync<string[]>("() => window.streamedText")];

    /// <summary>The lines of the conversation, in the order shown.</summary>
    public async Task<IReadOnlyList<ShownLine>> ReadLinesAsync() =>
        JsonSerializer.Deserialize<ShownLine[]>(await EvaluateAsync<string>(ReadLines), JsonSerializerOptions.Web)!;

    /// <summary>The names in the room's member list.</summary>
    public async Task<IReadOnlyList<string>> MembersAsync() =>
        await EvaluateAsync<string[]>("() => Array.from(document.querySelectorAll('#members > li')).map(li => li.getAttribute('data-name'))");

    /// <summary>Reloads the page and waits until it receives updates again.</summary>
    public async Task ReloadAsync()
    {
        var response = await Page.ReloadAsync().Bounded();
        Assert.True(response is { Ok: true }, $"The reload answered {response?.Status}.");
        await WaitUntilReceivingAsync();
    }

    /// <summary>Runs a JavaScript expression or function in the page and returns its value.</summary>
    public Task<T> EvaluateAsync<T>(string expression, object? arg = null) => Page.EvaluateAsync<T>(expression, arg).Bounded();

    /// <summary>Waits until a JavaScript predicate holds in the page, and fails with what the page shows if it does not within the bound.</summary>
    public async Task WaitUntilAsync(string predicate, object? arg, string what, TimeSpan? within = null)
    {
        var timeout = within ?? TimeSpan.FromMilliseconds(BrowserPage.Timeout);
        try
        {
            await Page.WaitForFunctionAsync(predicate, arg, new PageWaitForFunctionOptions { Timeout = (float)timeout.TotalMilliseconds, PollingInterval = 10 })
                .WaitAsync(timeout + TestEvents.Bound);
        }
        catch (TimeoutException e)
        {
            throw new Xunit.Sdk.XunitException($"Waited {timeout.TotalSeconds} s in vain for {what}.{Environment.NewLine}{await DescribeAsync()}", e);
        }
    }

    /// <summary>What the page shows, for failure messages.</summary>
    public async Task<string> DescribeAsync()
    {
        string shown;
        try
        {
            shown = string.Join(Environment.NewLine, (await ReadLinesAsync()).Select(static l => "  " + l))
                + $"{Environment.NewLine}members: {string.Join(", ", await MembersAsync())}"
                + $"{Environment.NewLine}status: {await EvaluateAsync<string>("() => document.querySelector('#status')?.textContent ?? '(no status)'")}"
                + $"{Environment.NewLine}error: {await EvaluateAsync<string>("() => document.querySelector('.error')?.textContent ?? '(none)'")}";
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException)
        {
            shown = $"(the page could not be read: {e.Message})";
        }

        return string.Join(
            Environment.NewLine,
            [
                $"page {(Page.IsClosed ? "(closed)" : Page.Url)}:", shown,
                "console:", .. _console.Select(static m => "  " + m),
                "the sample's last output:", _sample.LastOutput(40),
            ]);
    }

    /// <summary>Opens another tab of the same person: the same browser context, so the same session.</summary>
    public async Task<ChatPage> NewTabAsync() => new(_context, await _context.NewPageAsync().Bounded(), _sample, ownsContext: false);

    /// <summary>Opens a room's page in this tab, for a person who is a member of it, and waits until it receives updates.</summary>
    public async Task OpenRoomAsync(string slug)
    {
        await GotoAsync($"/rooms/{slug}");
        await WaitUntilReceivingAsync();
    }

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

    private async Task GotoAsync(string url)
    {
        var response = await Page.GotoAsync(url).Bounded();
        Assert.True(response is { Ok: true }, $"{url} answered {response?.Status}.");
    }

    private static async Task<string> BodyOfAsync(IResponse response)
    {
        try
        {
            return await response.TextAsync();
        }
        catch (PlaywrightException e)
        {
            // The page went away before the body was read.
            return $"(no body: {e.Message})";
        }
    }

    private Task WaitUntilReceivingAsync() =>
        WaitUntilAsync("() => document.querySelector('.chat') !== null && window.comety !== undefined && comety.isRunning()", null, "the room page to receive updates");

    [GeneratedRegex(@"/rooms/(?<slug>[^/?#]+)$")]
    private static partial Regex RoomUrl();
}
