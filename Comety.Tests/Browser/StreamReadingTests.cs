using System.Text;
using System.Text.Json;
using Comety.Tests.Infrastructure;

namespace Comety.Tests.Browser;

/// <summary>
/// How comety.js reads a stream, against streams a test writes piece by piece (<see cref="ScriptedStreams"/>)
/// in place of the server's: the Server-Sent Events syntax however the bytes are cut, the handler's
/// contract over a stream, the errors before and during a stream, and a version 1 server's answer.
/// Each next piece is written once the page has handled the last one, so the pieces reach the page
/// as separate reads.
/// </summary>
[Collection(BrowserSuite.Name)]
[Trait("Category", "Browser")]
public sealed class StreamReadingTests(BrowserFixture browser)
{
    [Fact]
    public async Task Events_are_read_whatever_the_line_ends_and_wherever_the_reads_cut_lines_messages_and_characters()
    {
        var streams = new ScriptedStreams();
        await using var host = await TestHost.StartAsync(new TestHostOptions { ConfigureApp = streams.Install });
        var first = streams.Open();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann");

        // CRLF (the opening message), a comment, LF; an unknown field and an event type of a later
        // version are ignored.
        first.Write(ScriptedResponse.Opening() + ": hello\n\n" + "foo: bar\n" + ScriptedResponse.Event(1, "lf") + "event: later-version\ndata: {}\n\n");
        await page.WaitForReceivedAsync(1);
        // CR alone; data on two lines (joined with a line feed, which JSON reads as a space), no
        // space after the colon; the read ends inside a message, with the CR of a CRLF.
        first.Write("id: 2\rdata: [\"test\",{\"event\":\"cr\"},2]\r\r" + "id:3\rdata:[\"test\",\rdata: {\"event\":\"two-lines\"},3]\r\r" + "id: 4\r\ndata: [\"test\",\r");
        await page.WaitForReceivedAsync(3);
        // The next read begins with that CRLF's LF, and ends inside a character (UTF-8 is decoded across reads).
        var utf8 = Encoding.UTF8.GetBytes("id: 5\ndata: [\"test\",{\"event\":\"utf8\",\"text\":\"d\u00e9j\u00e0 5 \u20ac\"},5]\n\n");
        var split = Array.IndexOf(utf8, (byte)0xE2) + 1;
        first.Write([.. Encoding.UTF8.GetBytes("\ndata: {\"event\":\"split-crlf\"},4]\r\n\r\n"), .. utf8[..split]]);
        await page.WaitForReceivedAsync(4);
        first.Write(utf8[split..]);
        await page.WaitForReceivedAsync(5);
        // The end: the page resumes at once from its lastId (events for others may lie before it).
        first.Write("id: 9\nevent: comety-end\ndata: {\"lastId\":9}\n\n");
        first.End();
        var second = streams.Open();
        second.Write(ScriptedResponse.Opening() + ScriptedResponse.Event(10, "after-the-end"));
        await page.WaitForReceivedAsync(6);

        var received = await page.ReceivedAsync();
        Assert.Equal([1L, 2, 3, 4, 5, 10], received.Select(e => e.Sequence));
        Assert.Equal(["lf", "cr", "two-lines", "split-crlf", "utf8", "after-the-end"], received.Select(e => e.Type));
        Assert.Equal("d\u00e9j\u00e0 5 \u20ac", received[4].Args.GetProperty("text").GetString());
        Assert.Equal(2, page.Streams.Count);
        Assert.Equal(9, BrowserPage.LastEventIdOf(page.Streams[1]));
        Assert.Equal(9, BrowserPage.ConfirmOf(page.Streams[1]));
        Assert.Empty(await page.ErrorStatusesAsync());
    }

    [Fact]
    public async Task A_stream_silent_for_twice_its_keep_alive_interval_is_taken_for_lost_and_resumed_at_once()
    {
        var streams = new ScriptedStreams();
        await using var host = await TestHost.StartAsync(new TestHostOptions { ConfigureApp = streams.Install });
        var first = streams.Open();
        var second = streams.Open();
        await using var page = await browser.OpenAsync(host);
        // The page's timers run on a clock the test moves.
        await page.Page.Clock.InstallAsync().Bounded();
        await page.OpenAsync("ann");
        first.Write(ScriptedResponse.Opening(keepAlive: 15) + ScriptedResponse.Event(1, "before-the-silence"));
        await page.WaitForReceivedAsync(1);

        await page.Page.Clock.RunForAsync(30_001).Bounded();

        await first.Abandoned.Bounded();
        second.Write(ScriptedResponse.Opening() + ScriptedResponse.Event(2, "after-the-silence"));
        await page.WaitForReceivedAsync(2);
        Assert.Equal([1L, 2], (await page.ReceivedAsync()).Select(e => e.Sequence));
        Assert.Equal(2, page.Streams.Count);
        Assert.Equal(1, BrowserPage.LastEventIdOf(page.Streams[1]));
        Assert.Empty(await page.ErrorStatusesAsync());
    }

    [Fact]
    public async Task With_transport_stream_a_stream_that_sends_no_byte_in_time_is_retried_as_a_stream_never_by_polling()
    {
        var streams = new ScriptedStreams();
        await using var host = await TestHost.StartAsync(new TestHostOptions { ConfigureApp = streams.Install });
        var silent = streams.Open();
        var second = streams.Open();
        await using var page = await browser.OpenAsync(host);
        await page.Page.Clock.InstallAsync().Bounded();
        await page.OpenAsync("ann", more: new Dictionary<string, string?> { ["transport"] = "stream" });
        await BrowserWait.UntilAsync(() => page.Streams.Count == 1, "the page to open its stream");

        // streamOpenTimeout (4 s) passes without a byte: 'auto' would poll now; 'stream' retries after its backoff (250 ms).
        await page.Page.Clock.RunForAsync(4_000).Bounded();
        await silent.Abandoned.Bounded();
        await page.WaitUntilAsync("() => window.errors.length === 1", null, "the error handler to run");
        await page.Page.Clock.RunForAsync(250).Bounded();
        await BrowserWait.UntilAsync(() => page.Polls.Count == 2, "the page to retry");
        second.Write(ScriptedResponse.Opening() + ScriptedResponse.Event(1, "on-the-retry"));
        await page.WaitForReceivedAsync(1);

        Assert.Equal("timeout", await page.EvaluateAsync<string>("() => window.errors[0].textStatus"));
        Assert.Equal([0], await page.ErrorStatusesAsync());
        Assert.All(page.Polls, poll => Assert.True(BrowserPage.IsStream(poll), $"The page polled: {poll.Url}"));
        Assert.Equal(BrowserPage.ConfirmOf(page.Polls[0]), BrowserPage.ConfirmOf(page.Polls[1]));
    }

    [Fact]
    public async Task A_handler_that_consumes_fewer_gets_the_rest_again_on_a_new_stream_from_the_last_consumed_event()
    {
        var streams = new ScriptedStreams();
        await using var host = await TestHost.StartAsync(new TestHostOptions { ConfigureApp = streams.Install });
        var first = streams.Open();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann");
        await page.EvaluateAsync<bool>("() => { window.batches = []; window.consume = events => { window.batches.push(events.map(e => e[2])); return 1; }; return true; }");

        // Three events in one read: the handler takes one, the page ends the stream and asks from 1.
        var second = streams.Open();
        var third = streams.Open();
        first.Write(ScriptedResponse.Opening() + ScriptedResponse.Event(1, "a") + ScriptedResponse.Event(2, "b") + ScriptedResponse.Event(3, "c"));
        await first.Abandoned.Bounded();
        second.Write(ScriptedResponse.Opening() + ScriptedResponse.Event(2, "b") + ScriptedResponse.Event(3, "c"));
        await second.Abandoned.Bounded();
        third.Write(ScriptedResponse.Opening() + ScriptedResponse.Event(3, "c"));
        await page.WaitForReceivedAsync(3);

        Assert.Equal([[1L, 2, 3], [2, 3], [3]], await page.EvaluateAsync<long[][]>("() => window.batches"));
        Assert.Equal([1L, 2, 3], (await page.ReceivedAsync()).Select(e => e.Sequence));
        Assert.Equal(3, page.Streams.Count);
        Assert.Equal([1L, 2], page.Streams.Skip(1).Select(BrowserPage.LastEventIdOf));
        Assert.True(await page.IsRunningAsync());
    }

    [Fact]
    public async Task A_handler_that_consumes_nothing_of_a_stream_stops_the_loop_and_ends_the_stream()
    {
        var streams = new ScriptedStreams();
        await using var host = await TestHost.StartAsync(new TestHostOptions { ConfigureApp = streams.Install });
        var first = streams.Open();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann");
        await page.EvaluateAsync<bool>("() => { window.offered = 0; window.consume = events => { window.offered += events.length; return 0; }; return true; }");

        first.Write(ScriptedResponse.Opening() + ScriptedResponse.Event(1, "refused"));

        await first.Abandoned.Bounded();
        Assert.Equal(1, await page.EvaluateAsync<int>("() => window.offered"));
        Assert.False(await page.IsRunningAsync());
        Assert.Single(page.Polls);
        Assert.Empty(await page.ReceivedAsync());
        Assert.Empty(await page.ErrorStatusesAsync());
    }

    [Fact]
    public async Task A_refusal_before_the_stream_reaches_the_error_handler_as_a_polls_would_and_a_429_is_retried_from_the_same_position()
    {
        var streams = new ScriptedStreams();
        await using var host = await TestHost.StartAsync(new TestHostOptions { ConfigureApp = streams.Install });
        streams.Refuse(429, """{"title":"Too many polls","status":429}""", ("Retry-After", "1"));
        var retried = streams.Open();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann", autoStart: false);
        await page.EvaluateAsync<bool>(
            """
            () => {
                window.refusals = [];
                comety.defaults.errorHandler = function (jqXHR, textStatus, errorThrown, loopParams) {
                    window.errors.push({ status: jqXHR.status });
                    window.refusals.push({ title: jqXHR.responseJSON.title, text: jqXHR.responseText, retryAfter: jqXHR.getResponseHeader('Retry-After'), textStatus: textStatus, url: loopParams.url });
                };
                comety.startUpdates();
                return true;
            }
            """);

        await page.WaitUntilAsync("() => window.refusals.length === 1", null, "the error handler to run");
        retried.Write(ScriptedResponse.Opening() + ScriptedResponse.Event(1, "after-the-retry"));
        await page.WaitForReceivedAsync(1);

        Assert.Equal([429], await page.ErrorStatusesAsync());
        var refusal = JsonSerializer.Deserialize<Refusal>(await page.EvaluateAsync<string>("() => JSON.stringify(window.refusals[0])"), JsonSerializerOptions.Web);
        Assert.Equal(new Refusal("Too many polls", """{"title":"Too many polls","status":429}""", "1", "error", "/test/updates"), refusal);
        Assert.Equal(2, page.Streams.Count);
        Assert.Equal(BrowserPage.LastEventIdOf(page.Streams[0]), BrowserPage.LastEventIdOf(page.Streams[1]));
        Assert.DoesNotContain(page.Polls, poll => !BrowserPage.IsStream(poll));
    }

    [Fact]
    public async Task A_problem_during_the_stream_is_handled_as_the_same_status_of_a_poll_after_the_events_before_it()
    {
        var streams = new ScriptedStreams();
        await using var host = await TestHost.StartAsync(new TestHostOptions { ConfigureApp = streams.Install });
        var first = streams.Open();
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann", autoStart: false);
        await page.EvaluateAsync<bool>(
            """
            () => {
                window.reasons = [];
                var original = comety.defaults.errorHandler;
                comety.defaults.errorHandler = function (jqXHR, textStatus) {
                    window.reasons.push(jqXHR.responseJSON.reason);
                    original(jqXHR, textStatus);
                };
                comety.startUpdates();
                return true;
            }
            """);

        first.Write(ScriptedResponse.Opening() + ScriptedResponse.Event(1, "before-the-problem")
            + "event: comety-problem\ndata: {\"status\":409,\"title\":\"Resynchronise\",\"detail\":\"Reload.\",\"reason\":\"resynchronise\"}\n\n");

        await page.WaitUntilAsync("() => !comety.isRunning()", null, "the 409 to stop the loop");
        Assert.Equal([409], await page.ErrorStatusesAsync());
        Assert.Equal(["resynchronise"], await page.EvaluateAsync<string[]>("() => window.reasons"));
        Assert.Equal([1L], (await page.ReceivedAsync()).Select(e => e.Sequence));
        Assert.Single(page.Polls);
    }

    [Fact]
    public async Task A_version_1_answer_to_a_stream_is_handled_as_a_poll_and_the_page_polls_from_then_on()
    {
        var streams = new ScriptedStreams();
        await using var host = await TestHost.StartAsync(new TestHostOptions { ConfigureApp = streams.Install });
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        var position = host.Dispatcher.LastSequence;
        streams.AnswerAsPoll($$"""{"lastId":{{position}},"events":[["test",{"event":"from-v1"},{{position}}]]}""");
        await using var page = await browser.OpenAsync(host);
        await page.OpenAsync("ann");

        await page.WaitForReceivedAsync(1);
        await BrowserWait.UntilAsync(() => page.Polls.Count >= 2, "the page to poll");
        var sequence = await host.Dispatcher.BroadcastAsync("server", TestEvents.Args("from-the-poll")).Bounded();
        await page.WaitForReceivedAsync(2);

        Assert.Equal(["from-v1", "from-the-poll"], (await page.ReceivedAsync()).Select(e => e.Type));
        Assert.Equal(sequence, (await page.ReceivedAsync())[1].Sequence);
        Assert.True(BrowserPage.IsStream(page.Polls[0]));
        Assert.Single(page.Streams);
        Assert.Equal(position, BrowserPage.ConfirmOf(page.Polls[1]));
        Assert.Empty(await page.ErrorStatusesAsync());
    }

    private sealed record Refusal(string Title, string Text, string RetryAfter, string TextStatus, string Url);
}
