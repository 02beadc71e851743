using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Comety.Tests.Infrastructure;

/// <summary>
/// Answers the test page's stream requests (a GET of <c>/test/updates</c> that accepts
/// <c>text/event-stream</c>) with what a test scripts, byte for byte and piece by piece, in place of
/// the server's own: so that a test can cut the stream where it likes (a line end, a message, a
/// character split across two reads) and hold the next piece until the page has handled the last.
/// Each request takes the next answer queued; polls go on to the real controller.
/// </summary>
public sealed class ScriptedStreams
{
    private readonly Channel<Func<HttpContext, Task>> _answers = Channel.CreateUnbounded<Func<HttpContext, Task>>();

    /// <summary>Puts the scripted answers in front of the test application's updates URL (for <see cref="TestHostOptions.ConfigureApp"/>).</summary>
    public void Install(WebApplication app) => app.Use(async (context, next) =>
    {
        if (HttpMethods.IsGet(context.Request.Method)
            && context.Request.Path == "/test/updates"
            && context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.Ordinal))
        {
            Func<HttpContext, Task> answer;
            try
            {
                answer = await _answers.Reader.ReadAsync(context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await answer(context);
            return;
        }

        await next(context);
    });

    /// <summary>Queues a stream: its response starts at once, and carries what the test writes to it.</summary>
    public ScriptedResponse Open()
    {
        var stream = new ScriptedResponse();
        _answers.Writer.TryWrite(stream.AnswerAsync);
        return stream;
    }

    /// <summary>Queues a refusal before the stream starts: a status with a problem+json body, as PROTOCOL.md has it.</summary>
    public void Refuse(int status, string problem, params (string Name, string Value)[] headers) =>
        _answers.Writer.TryWrite(async context =>
        {
            context.Response.StatusCode = status;
            foreach (var (name, value) in headers)
            {
                context.Response.Headers[name] = value;
            }

            context.Response.ContentType = "application/problem+json";
            await context.Response.WriteAsync(problem);
        });

    /// <summary>Queues a version 1 server's answer to the same request: a poll answer in JSON.</summary>
    public void AnswerAsPoll(string json) =>
        _answers.Writer.TryWrite(async context =>
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(json);
        });
}

/// <summary>One scripted stream: every piece written is sent and flushed on its own.</summary>
public sealed class ScriptedResponse
{
    private readonly Channel<byte[]> _pieces = Channel.CreateUnbounded<byte[]>();
    private readonly TaskCompletionSource _abandoned = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the page went away from this stream (it aborted the request).</summary>
    public Task Abandoned => _abandoned.Task;

    /// <summary>The opening message a server writes first (PROTOCOL.md), with CRLF line ends.</summary>
    public static string Opening(int keepAlive = 15) =>
        $"retry: 1000\r\nevent: comety-stream\r\ndata: {{\"keepAlive\":{keepAlive},\"maxDuration\":60}}\r\n\r\n";

    /// <summary>One event's message, with LF line ends.</summary>
    public static string Event(long sequence, string type) =>
        $"id: {sequence}\ndata: [\"test\",{{\"event\":\"{type}\"}},{sequence}]\n\n";

    public void Write(string text) => Write(Encoding.UTF8.GetBytes(text));

    public void Write(byte[] bytes) => _pieces.Writer.TryWrite(bytes);

    /// <summary>Completes the response after the pieces written so far.</summary>
    public void End() => _pieces.Writer.TryComplete();

    internal async Task AnswerAsync(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache, no-store, must-revalidate";
        var aborted = context.RequestAborted;
        using var registration = aborted.Register(() => _abandoned.TrySetResult());
        try
        {
            await context.Response.StartAsync(aborted);
            await foreach (var piece in _pieces.Reader.ReadAllAsync(aborted))
            {
                await context.Response.Body.WriteAsync(piece, aborted);
                await context.Response.Body.FlushAsync(aborted);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The page went away.
        }
    }
}
