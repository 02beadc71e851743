using System.Globalization;
using Comety.Internal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Comety;

// Streams (PROTOCOL.md, version 2): a GET that asks for text/event-stream is answered once, and
// each of the user's events is written to that answer as it comes.
public abstract partial class CometyController
{
    private const string LastEventIdHeader = "Last-Event-ID";

    // The share of StreamDuration over which the ends of streams are spread.
    private const double StreamEndSpread = 0.2;

    // Whether the request asks for a stream: its Accept lists text/event-stream with a quality above 0.
    // Most polls' Accept does not even contain the text, and are not parsed.
    private static bool AcceptsEventStream(HttpRequest request)
    {
        var accept = request.Headers.Accept;
        var mentioned = false;
        foreach (var value in accept)
        {
            mentioned |= value is not null && value.Contains(EventStreamFrames.MediaType, StringComparison.OrdinalIgnoreCase);
        }

        if (!mentioned || !MediaTypeHeaderValue.TryParseList(accept, out var types))
        {
            return false;
        }

        foreach (var type in types)
        {
            if (type.MediaType.Equals(EventStreamFrames.MediaType, StringComparison.OrdinalIgnoreCase) && type.Quality is not <= 0)
            {
                return true;
            }
        }

        return false;
    }

    // The position a reconnecting client states in Last-Event-ID: null when absent or empty; the
    // reason it is invalid otherwise.
    private static string? TryReadLastEventId(HttpRequest request, out long? position)
    {
        position = null;
        var values = request.Headers[LastEventIdHeader];
        if (values.Count > 1)
        {
            return "The Last-Event-ID header was given more than once.";
        }

        var text = values.Count == 1 ? values[0] : null;
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return $"The Last-Event-ID header must be a sequence number, an integer 0 or more; got '{(text.Length > 40 ? string.Concat(text.AsSpan(0, 40), "…") : text)}'.";
        }

        position = value;
        return null;
    }

    // Writes the stream: the opening message, then each poll's events as the dispatcher answers
    // it, a comment after each keep-alive interval of silence, and the end after StreamDuration.
    // The first look is a poll from the position the page stated; every later wait continues the
    // stream from the last event it wrote, which the page may not have received: the dispatcher
    // keeps those for the retention windows, so that a cut stream resumes with nothing lost.
    private async Task StreamAsync(CometyDispatcher dispatcher, string userId, PollResult first, NetworkDelayEstimator estimator, TimeSpan? expectedDelay)
    {
        var response = Response;
        var aborted = HttpContext.RequestAborted;
        var clock = dispatcher.TimeProvider;
        var keepAlive = Options.StreamKeepAliveInterval;
        // Each stream ends somewhere in the last fifth of StreamDuration: streams opened together (a
        // deployment, a network back) would otherwise all end, reconnect and fall silent together,
        // once per duration, for as long as the clients stay.
        var endAt = clock.GetUtcNow() + Options.StreamDuration * (1 - (StreamEndSpread * Random.Shared.NextDouble()));
        var output = response.BodyWriter;
        var position = first.LastId;
        var written = 0;
        try
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = EventStreamFrames.MediaType;
            response.Headers["X-Accel-Buffering"] = "no";
            HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            EventStreamFrames.WriteOpening(output, keepAlive, Options.StreamDuration);
            if (first.Events is { Count: > 0 } firstEvents)
            {
                EventStreamFrames.WriteEvents(output, firstEvents);
                written += firstEvents.Count;
            }

            if ((await output.FlushAsync(aborted)).IsCompleted)
            {
                return;
            }

            while (true)
            {
                var remaining = endAt - clock.GetUtcNow();
                if (remaining <= TimeSpan.Zero)
                {
                    EventStreamFrames.WriteEnd(output, position);
                    await output.FlushAsync(aborted);
                    Log.StreamEnded(Logger, userId, written, position);
                    return;
                }

                if (dispatcher.IsStopping)
                {
                    WriteProblem(output, userId, StatusCodes.Status503ServiceUnavailable, "Shutting down", "The server is stopping; try again shortly.", null);
                    await output.FlushAsync(aborted);
                    return;
                }

                var result = await dispatcher.ContinueStreamAsync(userId, position, remaining < keepAlive ? remaining : keepAlive, cancellationToken: aborted);
                if (result.TooManyPolls)
                {
                    WriteProblem(output, userId, StatusCodes.Status429TooManyRequests, "Too many polls", TooManyPollsDetail(dispatcher, userId), null);
                    await output.FlushAsync(aborted);
                    return;
                }

                if (result.MustResynchronize)
                {
                    WriteProblem(output, userId, StatusCodes.Status409Conflict, "Resynchronise", ResynchroniseDetail(dispatcher, userId, position), ResynchroniseReason);
                    await output.FlushAsync(aborted);
                    return;
                }

                if (result.Events is { Count: > 0 } events)
                {
                    EventStreamFrames.WriteEvents(output, events);
                    written += events.Count;
                }
                else if (clock.GetUtcNow() < endAt && !dispatcher.IsStopping)
                {
                    EventStreamFrames.WriteKeepAlive(output);
                }
                else
                {
                    position = result.LastId;
                    continue;
                }

                position = result.LastId;

                // A client that stops reading (a frozen tab) holds the stream here, at its position,
                // once the transport's buffers are full: nothing piles up on the server.
                if ((await output.FlushAsync(aborted)).IsCompleted)
                {
                    return;
                }
            }
        }
        catch (UnknownUserException)
        {
            WriteProblem(output, userId, StatusCodes.Status403Forbidden, "Not registered", NotRegisteredDetail(userId), NotRegisteredReason);
            await TryFlushAsync(output);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away; it resumes from the last event it received.
            Log.StreamAbandoned(Logger, userId, written);
        }
        catch (EventLogUnavailableException)
        {
            WriteProblem(output, userId, StatusCodes.Status503ServiceUnavailable, "Event log unavailable", "The server cannot reach its event log; try again shortly.", null);
            await TryFlushAsync(output);
        }
        catch (ObjectDisposedException e) when (e.ObjectName == typeof(CometyDispatcher).FullName)
        {
            WriteProblem(output, userId, StatusCodes.Status503ServiceUnavailable, "Shutting down", "The server is stopping; try again shortly.", null);
            await TryFlushAsync(output);
        }
        catch (Exception e)
        {
            // Logged once, by the dispatcher, which also raises Error.
            await ReportAsync(dispatcher, userId, e);
            WriteProblem(output, userId, StatusCodes.Status500InternalServerError, "Server error", "The server failed to handle the request.", null);
            await TryFlushAsync(output);
        }
        finally
        {
            estimator.OnResponse(clock.GetUtcNow());
            if (dispatcher.IsRegistered(userId))
            {
                StartHeartbeat(dispatcher, userId, expectedDelay);
            }
        }
    }

    private void WriteProblem(System.IO.Pipelines.PipeWriter output, string userId, int status, string title, string detail, string? reason)
    {
        Log.RequestRejected(Logger, Request.Method, userId, status, detail);
        EventStreamFrames.WriteProblem(output, status, title, detail, reason);
    }

    // The stream ends anyway: a client that went away meanwhile changes nothing.
    private static async ValueTask TryFlushAsync(System.IO.Pipelines.PipeWriter output)
    {
        try
        {
            await output.FlushAsync();
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
        }
    }

    /// <summary>Runs the stream when MVC (or the endpoint <c>MapComety</c> maps) executes the action's result.</summary>
    private sealed class EventStreamResult(
        CometyController controller, CometyDispatcher dispatcher, string userId, PollResult first, NetworkDelayEstimator estimator, TimeSpan? expectedDelay) : IActionResult
    {
        public Task ExecuteResultAsync(ActionContext context) => controller.StreamAsync(dispatcher, userId, first, estimator, expectedDelay);
    }
}
