using System.Buffers;
using System.Text.Json;
using Comety.Internal;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Comety;

/// <summary>
/// The base of the controller that serves a page's updates URL: <c>GET</c> polls and <c>POST</c>
/// sends, as the Comety wire protocol describes. A subclass says who the user is (and, if not
/// the one <c>AddComety</c> registers, which dispatcher serves it) and gives the URL with a route.
/// </summary>
/// <example>
/// <code>
/// [Route("chat/updates")]
/// public sealed class ChatUpdatesController : CometyController
/// {
///     protected override string? GetUserId() => HttpContext.Session.GetString("user");
/// }
/// </code>
/// </example>
public abstract partial class CometyController : ControllerBase
{
    private const string ProblemContentType = "application/problem+json";

    // The problem member that tells a script which 403 it got (PROTOCOL.md): a page with no user
    // must never reload itself, one whose user is unknown may reload once to register again.
    private const string ReasonMember = "reason";
    private const string NoUserReason = "no-user";
    private const string NotRegisteredReason = "not-registered";
    private const string NotSubscribedReason = "not-subscribed";
    private const string ResynchroniseReason = "resynchronise";

    private CometyOptions? _options;
    private ILogger? _logger;
    private TimeProvider? _clock;
    private ClientChannelPatterns? _clientChannels;

    /// <summary>Gets the Comety options.</summary>
    protected CometyOptions Options =>
        _options ??= HttpContext.RequestServices.GetService<IOptions<CometyOptions>>()?.Value ?? new CometyOptions();

    // ILogger<T> is a singleton: no logger factory lookup (and lock) per request.
    private ILogger Logger =>
        _logger ??= HttpContext.RequestServices.GetService<ILogger<CometyController>>() ?? (ILogger)NullLogger.Instance;

    private TimeProvider Clock => _clock ??= HttpContext.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System;

    // Read once per application by AddComety; without it, from whatever options this controller has.
    private ClientChannelPatterns ClientChannels =>
        _clientChannels ??= HttpContext.RequestServices.GetService<ClientChannelPatterns>() ?? new ClientChannelPatterns(Options.ClientChannels);

    /// <summary>
    /// Answers a poll: returns the user's events after the page's position (its <c>confirm</c>)
    /// at once or as soon as one arrives, or no events when the hold time passes. A request whose
    /// <c>Accept</c> lists <c>text/event-stream</c> gets a stream instead (protocol version 2): each
    /// event is written to one response as it comes, for <see cref="CometyOptions.StreamDuration"/>.
    /// What other pages of the same user handled never changes what this page gets.
    /// </summary>
    /// <returns>200 with <c>{"lastId", "events"}</c> or a stream; 400, 403, 409, 429, 500 or 503 with a problem description.</returns>
    /// <remarks>
    /// Routed by MVC (<c>[Route]</c> on the controller and <c>MapControllers</c>), a poll goes through
    /// MVC's whole pipeline and every filter runs. <c>app.MapComety&lt;TController&gt;(pattern)</c> serves
    /// it on a lean endpoint instead, without MVC's invoker.
    /// </remarks>
    [HttpGet]
    [ActionName("Updates")]
    [DisableRequestTimeout]
    public async Task<IActionResult> PollAsync()
    {
        var arrivedAt = Clock.GetUtcNow();

        // The attribute keeps the request timeouts middleware away; this covers a timeout set
        // some other way, as far as it has not fired yet.
        HttpContext.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();
        SetNoCacheHeaders();
        if (!TryIdentify(out var dispatcher, out var userId, out var failure))
        {
            return failure;
        }

        var stream = AcceptsEventStream(Request);
        var invalid = PollQuery.TryParse(Request.QueryString, Options.MaxClientTimeout, timeoutRequired: !stream, out var query);
        var position = query.Confirm;
        if (invalid is null && stream)
        {
            // A stream resumes from the last event it wrote, which the reconnecting client states.
            invalid = TryReadLastEventId(Request, out var lastEventId);
            position = lastEventId ?? position;
        }

        if (invalid is not null)
        {
            return Reject(StatusCodes.Status400BadRequest, stream ? "Invalid stream request" : "Invalid poll", invalid, userId);
        }

        if (dispatcher.IsShared)
        {
            // On a shared log, the page's position may come from another server: this one catches
            // up to it first (and to the user's registration with it) before it looks.
            var caughtUp = dispatcher.IsLogAvailable ? await TryCatchUpAsync(dispatcher, position) : null;
            if (caughtUp is null)
            {
                return EventLogUnavailable(userId);
            }

            if (caughtUp == false)
            {
                return Reject(StatusCodes.Status409Conflict, "Resynchronise", $"The page's position {position} was not issued by the store this server follows (it was wiped or restored from a backup since); reload the page.", userId, ResynchroniseReason);
            }
        }
        else if (position > dispatcher.LastSequence)
        {
            // A position this log never issued: the page was served by the log before a restart
            // (or another store). Its events cannot be told apart from the new log's: resynchronise.
            return Reject(StatusCodes.Status409Conflict, "Resynchronise", $"The page's position {position} is beyond the last sequence number this server issued, {dispatcher.LastSequence}: the server restarted; reload the page.", userId, ResynchroniseReason);
        }

        if (query.InvalidElapsed is not null)
        {
            Log.InvalidElapsedIgnored(Logger, userId, query.InvalidElapsed);
        }

        if (dispatcher.IsStopping)
        {
            return ShuttingDown(userId);
        }

        if (!dispatcher.IsRegistered(userId))
        {
            return NotRegistered(userId);
        }

        var aborted = HttpContext.RequestAborted;
        TimeSpan? expectedDelay = null;
        var streaming = false;
        try
        {
            // Inside the try: the user may leave between the check above and here.
            StopHeartbeat(dispatcher, userId);
            var estimator = dispatcher.GetNetworkDelayEstimator(userId, ConnectionKey());
            if (estimator.OnRequest(arrivedAt, query.Elapsed) is { } measured)
            {
                Log.NetworkDelayMeasured(Logger, userId, measured.TotalMilliseconds);
            }

            expectedDelay = EstimateNetworkDelay(estimator);

            // A stream looks at once, before its response starts, so that what a poll would refuse
            // is refused with the poll's status; then it writes the events as they come.
            var hold = stream ? TimeSpan.Zero : query.Timeout!.Value * Options.ResponseTimeoutFactor - (expectedDelay ?? TimeSpan.Zero);
            var result = await dispatcher.PollAsync(userId, position, hold > TimeSpan.Zero ? hold : TimeSpan.Zero, cancellationToken: aborted);
            if (result.TooManyPolls)
            {
                return TooManyPolls(dispatcher, userId);
            }

            if (result.MustResynchronize)
            {
                return Reject(StatusCodes.Status409Conflict, "Resynchronise", ResynchroniseDetail(dispatcher, userId, position), userId, ResynchroniseReason);
            }

            if (stream)
            {
                // From here on the stream owns the heartbeat, and starts it when it ends.
                streaming = true;
                return new EventStreamResult(this, dispatcher, userId, result, estimator, expectedDelay);
            }

            Log.PollAnswered(Logger, userId, result.Events?.Count ?? 0, result.LastId);
            estimator.OnResponse(Clock.GetUtcNow());
            return new PollResultActionResult(result);
        }
        catch (UnknownUserException)
        {
            return NotRegistered(userId);
        }
        catch (EventLogUnavailableException)
        {
            return EventLogUnavailable(userId);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away; its events stay for its next poll.
            Log.PollAbandoned(Logger, userId);
            return new EmptyResult();
        }
        catch (Exception e)
        {
            return await FailAsync(dispatcher, userId, e);
        }
        finally
        {
            if (!streaming && dispatcher.IsRegistered(userId))
            {
                StartHeartbeat(dispatcher, userId, expectedDelay);
            }
        }
    }

    /// <summary>Takes what a page sends: a subscription, an unsubscription or a message for the application's handlers.</summary>
    /// <returns>
    /// 204 when done; 400, 403 (including a <c>subscribe</c> the application does not allow, or one
    /// beyond <see cref="CometyOptions.MaxClientChannelsPerUser"/>, and an <c>unsubscribe</c> it refuses),
    /// 413, 415 or 500 with a problem description.
    /// </returns>
    [HttpPost]
    [ActionName("Updates")]
    [IgnoreAntiforgeryToken]
    public async Task<IActionResult> SendAsync()
    {
        SetNoCacheHeaders();
        if (!TryIdentify(out var dispatcher, out var userId, out var failure))
        {
            return failure;
        }

        // On a shared log the user may have been registered on another server a moment ago.
        if (dispatcher.IsShared && !dispatcher.IsRegistered(userId) && await TryCatchUpAsync(dispatcher, null) is null)
        {
            return EventLogUnavailable(userId);
        }

        if (!dispatcher.IsRegistered(userId))
        {
            return NotRegistered(userId);
        }

        var aborted = HttpContext.RequestAborted;
        try
        {
            // The content type first: antiforgery reads a form body looking for its token, and a
            // hostile form (a key over the form reader's limits) would make it throw.
            if (!IsJson(Request.ContentType))
            {
                return Reject(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", $"Send JSON in UTF-8 with Content-Type: application/json; got '{Request.ContentType}'.", userId);
            }

            if (Request.ContentLength > Options.MaxMessageBytes)
            {
                return TooLarge(userId);
            }

            if (!await IsAntiforgeryValidAsync())
            {
                return Reject(StatusCodes.Status403Forbidden, "Antiforgery token missing or invalid", "The request needs the page's antiforgery token in the RequestVerificationToken header.", userId);
            }

            ReadOnlyMemory<byte>? body;
            try
            {
                body = await ReadBodyAsync(Options.MaxMessageBytes, aborted);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                // The server's own body limit (Kestrel's MaxRequestBodySize) is below MaxMessageBytes.
                body = null;
            }

            if (body is null)
            {
                return TooLarge(userId);
            }

            var invalid = SendRequest.TryParse(body.Value, out var request);
            if (invalid is not null)
            {
                return Reject(StatusCodes.Status400BadRequest, "Invalid message", invalid, userId);
            }

            switch (request!.Type)
            {
                case SendRequest.Subscribe:
                    if (!await AuthorizeSubscriptionAsync(userId, request.Channel!, aborted))
                    {
                        return Refuse("Subscription refused", $"User '{userId}' may not subscribe to '{request.Channel}'.", userId, request);
                    }

                    // After the hook, so that as little as possible runs between the count and the
                    // subscription. Joining a channel the user is already in changes nothing, so it is
                    // not refused.
                    var channels = dispatcher.GetChannels(userId);
                    if (channels.Count >= Options.MaxClientChannelsPerUser && !channels.Contains(request.Channel!, StringComparer.Ordinal))
                    {
                        return Refuse("Too many channels", $"User '{userId}' is in {channels.Count} channels already; a page may subscribe it to no more than {Options.MaxClientChannelsPerUser}. Unsubscribe from one first.", userId, request);
                    }

                    await dispatcher.SubscribeAsync(userId, request.Channel!, aborted);
                    break;
                case SendRequest.Unsubscribe:
                    if (!await AuthorizeUnsubscriptionAsync(userId, request.Channel!, aborted))
                    {
                        return Refuse("Unsubscription refused", $"User '{userId}' may not unsubscribe from '{request.Channel}'.", userId, request);
                    }

                    await dispatcher.UnsubscribeAsync(userId, request.Channel!, aborted);
                    break;
                default:
                    if (!await dispatcher.ReceiveMessageAsync(userId, request.Data, request.Channel, aborted))
                    {
                        // Refused, not ignored with a 204: the page learns its message went nowhere.
                        return Reject(StatusCodes.Status403Forbidden, "Not subscribed", $"User '{userId}' is not subscribed to '{request.Channel}' and may not send to it.", userId, NotSubscribedReason);
                    }

                    break;
            }

            Log.SendHandled(Logger, userId, request.Type, request.Channel);
            return NoContent();
        }
        catch (UnknownUserException)
        {
            return NotRegistered(userId);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return new EmptyResult();
        }
        catch (Exception e)
        {
            return await FailAsync(dispatcher, userId, e);
        }
    }

    /// <summary>Returns the id of the user the request comes from, or <see langword="null"/> when there is none (403).</summary>
    /// <returns>The user's id, from the session, a cookie or the authenticated principal; never from the query or the body.</returns>
    protected abstract string? GetUserId();

    /// <summary>Returns the dispatcher that serves this controller; by default the one <c>AddComety</c> registers.</summary>
    /// <returns>The dispatcher, or <see langword="null"/> when there is none (500).</returns>
    protected virtual CometyDispatcher? GetDispatcher() => HttpContext.RequestServices.GetService<CometyDispatcher>();

    /// <summary>
    /// Decides whether a page may subscribe its user to a channel by itself; by default, whether the
    /// channel matches one of <see cref="CometyOptions.ClientChannels"/> (none by default, so every
    /// such subscription is refused).
    /// </summary>
    /// <param name="userId">The user's id.</param>
    /// <param name="channel">The channel it asks for.</param>
    /// <param name="cancellationToken">Signals that the client went away.</param>
    /// <returns><see langword="true"/> to subscribe the user; <see langword="false"/> to refuse with 403.</returns>
    /// <remarks>
    /// An override decides alone: to narrow the configured patterns, require
    /// <c>await base.AuthorizeSubscriptionAsync(userId, channel, cancellationToken)</c> as well as its
    /// own condition; to open more, accept either. Only a page's <c>subscribe</c> comes here; the
    /// application's own <see cref="CometyDispatcher.SubscribeAsync"/> calls are never checked, and
    /// <see cref="CometyOptions.MaxClientChannelsPerUser"/> applies after this hook allowed the channel.
    /// </remarks>
    protected virtual ValueTask<bool> AuthorizeSubscriptionAsync(string userId, string channel, CancellationToken cancellationToken) =>
        ValueTask.FromResult(ClientChannels.Matches(channel));

    /// <summary>Decides whether a page may unsubscribe its user from a channel; by default it always may.</summary>
    /// <param name="userId">The user's id.</param>
    /// <param name="channel">The channel it asks to leave.</param>
    /// <param name="cancellationToken">Signals that the client went away.</param>
    /// <returns><see langword="true"/> to unsubscribe the user; <see langword="false"/> to refuse with 403 and keep it subscribed.</returns>
    /// <remarks>
    /// Refuse when leaving would break what the application relies on, such as a channel every
    /// user must hear. The application's own <see cref="CometyDispatcher.UnsubscribeAsync"/> calls are never checked.
    /// </remarks>
    protected virtual ValueTask<bool> AuthorizeUnsubscriptionAsync(string userId, string channel, CancellationToken cancellationToken) =>
        ValueTask.FromResult(true);

    /// <summary>
    /// Returns the user's expected network delay from its estimator, which the dispatcher keeps
    /// with the user: one per browser session when the application has sessions, one per user otherwise.
    /// </summary>
    /// <param name="estimator">The user's estimator, with this poll's measurement already added.</param>
    /// <returns>The expected delay, or <see langword="null"/> while nothing has been measured.</returns>
    protected virtual TimeSpan? EstimateNetworkDelay(NetworkDelayEstimator estimator) =>
        estimator.MeasurementCount == 0 ? null : estimator.ExpectedDelay;

    /// <summary>Stops the user's heartbeat while a poll is served.</summary>
    /// <param name="dispatcher">The dispatcher.</param>
    /// <param name="userId">The user's id.</param>
    protected virtual void StopHeartbeat(CometyDispatcher dispatcher, string userId) => dispatcher.StopHeartbeat(userId);

    /// <summary>
    /// Starts the user's heartbeat when a poll ends: <see cref="CometyOptions.HeartbeatTimeout"/>
    /// plus the expected network delay, or five heartbeat timeouts while it is unmeasured.
    /// </summary>
    /// <param name="dispatcher">The dispatcher.</param>
    /// <param name="userId">The user's id.</param>
    /// <param name="expectedNetworkDelay">The expected delay, or <see langword="null"/> while nothing has been measured.</param>
    protected virtual void StartHeartbeat(CometyDispatcher dispatcher, string userId, TimeSpan? expectedNetworkDelay)
    {
        try
        {
            dispatcher.StartHeartbeat(userId, expectedNetworkDelay);
        }
        catch (UnknownUserException)
        {
            // The user left while the poll was served.
        }
        catch (ObjectDisposedException)
        {
            // The application is shutting down.
        }
    }

    private bool TryIdentify(out CometyDispatcher dispatcher, out string userId, out IActionResult failure)
    {
        userId = null!;
        failure = null!;
        string? id;
        try
        {
            dispatcher = GetDispatcher()!;
            id = dispatcher is null ? null : GetUserId();
        }
        catch (Exception e)
        {
            // The application's hooks failed, for example reading a session that is not configured:
            // still an answer the script understands, and no stack trace.
            Log.IdentificationFailed(Logger, Request.Method, GetType().Name, e);
            dispatcher = null!;
            failure = ProblemResult(StatusCodes.Status500InternalServerError, "Server error", "The server failed to handle the request.");
            return false;
        }

        if (dispatcher is null)
        {
            Log.NoDispatcher(Logger, GetType().Name);
            failure = ProblemResult(StatusCodes.Status500InternalServerError, "Comety is misconfigured", "No dispatcher serves this controller: call services.AddComety() or override GetDispatcher().");
            return false;
        }

        if (string.IsNullOrEmpty(id))
        {
            failure = Reject(StatusCodes.Status403Forbidden, "No user", "No user could be identified for this request.", null, NoUserReason);
            return false;
        }

        userId = id;
        return true;
    }

    // What tells the user's browsers apart for the network delay: the session cookie when the
    // application has sessions. The session itself is neither loaded nor written: a held poll that
    // wrote it back when it ended would undo what other requests changed meanwhile.
    private string? ConnectionKey()
    {
        if (HttpContext.Features.Get<ISessionFeature>() is null)
        {
            return null;
        }

        var cookie = HttpContext.RequestServices.GetService<IOptions<SessionOptions>>()?.Value.Cookie.Name;
        return cookie is not null && Request.Cookies.TryGetValue(cookie, out var value) && !string.IsNullOrEmpty(value) ? value : null;
    }

    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed)
        && parsed.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        && (!parsed.Charset.HasValue || parsed.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    private async ValueTask<bool> IsAntiforgeryValidAsync()
    {
        if (!Options.ValidateAntiforgery || HttpContext.RequestServices.GetService<IAntiforgery>() is not { } antiforgery)
        {
            return true;
        }

        try
        {
            return await antiforgery.IsRequestValidAsync(HttpContext);
        }
        catch (Exception e) when (e is AntiforgeryValidationException or InvalidDataException or BadHttpRequestException)
        {
            // A token that cannot be read is a missing token, not a server failure.
            return false;
        }
    }

    private ObjectResult TooLarge(string userId) =>
        Reject(StatusCodes.Status413PayloadTooLarge, "Message too large", $"A message may have at most {Options.MaxMessageBytes} bytes.", userId);

    private async ValueTask<ReadOnlyMemory<byte>?> ReadBodyAsync(int limit, CancellationToken cancellationToken)
    {
        if (Request.ContentLength > limit)
        {
            return null;
        }

        // One byte more than the limit tells an oversized body; in long, so that a limit of int.MaxValue cannot overflow.
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(Math.Min((long)limit + 1, (Request.ContentLength ?? 4096) + 1), Array.MaxLength));
        while (true)
        {
            var read = await Request.Body.ReadAsync(buffer.GetMemory((int)Math.Min(4096, (long)limit + 1 - buffer.WrittenCount)), cancellationToken);
            if (read == 0)
            {
                return buffer.WrittenMemory;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > limit)
            {
                return null;
            }
        }
    }

    private void SetNoCacheHeaders()
    {
        var headers = Response.Headers;
        headers.CacheControl = "no-cache, no-store, must-revalidate";
        headers.Pragma = "no-cache";
        headers.Expires = "0";
    }

    private ObjectResult NotRegistered(string userId) =>
        Reject(StatusCodes.Status403Forbidden, "Not registered", NotRegisteredDetail(userId), userId, NotRegisteredReason);

    private static string NotRegisteredDetail(string userId) => $"User '{userId}' is not registered (any more); reload the page.";

    // Refused, not superseding the oldest: tabs beyond the limit would evict each other's polls in
    // a loop at network speed, where a refusal makes the page wait.
    private ObjectResult TooManyPolls(CometyDispatcher dispatcher, string userId)
    {
        Response.Headers.RetryAfter = "1";
        return Reject(StatusCodes.Status429TooManyRequests, "Too many polls", TooManyPollsDetail(dispatcher, userId), userId);
    }

    private static string TooManyPollsDetail(CometyDispatcher dispatcher, string userId) =>
        $"User '{userId}' has {dispatcher.Options.MaxPollsPerUser} polls waiting already; ask again after the Retry-After delay.";

    // In the words of the dispatcher that serves the request: its own backlog.
    private static string ResynchroniseDetail(CometyDispatcher dispatcher, string userId, long? position) =>
        $"The page's position {position} is older than what the server still holds for user '{userId}' (a page that stays away for more than the heartbeat timeout, or falls more than {dispatcher.Options.MaxBacklog} of its events behind, loses them); reload the page.";

    // A page may ask for any channel as often as it likes: a refusal is the policy at work, not a
    // failure, so it is logged at Debug, where one client cannot flood the logs with it.
    private ObjectResult Refuse(string title, string detail, string userId, SendRequest request)
    {
        Log.ChannelRequestRefused(Logger, request.Type, userId, request.Channel!, title);
        return ProblemResult(StatusCodes.Status403Forbidden, title, detail);
    }

    // Not a failure: the script retries a 5xx with its backoff, by which time another server (or this one, restarted) answers.
    private ObjectResult ShuttingDown(string userId)
    {
        Log.ShuttingDown(Logger, Request.Method, userId);
        Response.Headers.RetryAfter = "1";
        return ProblemResult(StatusCodes.Status503ServiceUnavailable, "Shutting down", "The server is stopping; try again shortly.");
    }

    private ObjectResult Reject(int status, string title, string detail, string? userId, string? reason = null)
    {
        Log.RequestRejected(Logger, Request.Method, userId, status, detail);
        return ProblemResult(status, title, detail, reason);
    }

    // Whether a shared log's view reached the position (null: the store cannot be reached).
    private async Task<bool?> TryCatchUpAsync(CometyDispatcher dispatcher, long? position)
    {
        try
        {
            return await dispatcher.CatchUpAsync(position, HttpContext.RequestAborted);
        }
        catch (EventLogUnavailableException)
        {
            return null;
        }
    }

    // Not the client's fault, nor a bug here: the script retries a 5xx with its backoff, and the
    // database is back by then, or another server answers.
    private ObjectResult EventLogUnavailable(string userId)
    {
        Log.EventLogUnavailable(Logger, Request.Method, userId);
        Response.Headers.RetryAfter = "1";
        return ProblemResult(StatusCodes.Status503ServiceUnavailable, "Event log unavailable", "The server cannot reach its event log; try again shortly.");
    }

    private async Task<IActionResult> FailAsync(CometyDispatcher dispatcher, string userId, Exception exception)
    {
        if (exception is EventLogUnavailableException)
        {
            return EventLogUnavailable(userId);
        }

        if (exception is ObjectDisposedException { ObjectName: var name } && name == typeof(CometyDispatcher).FullName)
        {
            // Not a failure: the application is stopping. The script retries after a 5xx.
            return ShuttingDown(userId);
        }

        // Logged once, by the dispatcher, which also raises Error.
        await ReportAsync(dispatcher, userId, exception);
        return ProblemResult(StatusCodes.Status500InternalServerError, "Server error", "The server failed to handle the request.");
    }

    private static async ValueTask ReportAsync(CometyDispatcher dispatcher, string userId, Exception exception)
    {
        try
        {
            await dispatcher.ReportErrorAsync(userId, exception);
        }
        catch (ObjectDisposedException)
        {
            // Shutting down.
        }
    }

    private static ObjectResult ProblemResult(int status, string title, string detail, string? reason = null)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        if (reason is not null)
        {
            problem.Extensions[ReasonMember] = reason;
        }

        return new ObjectResult(problem)
        {
            StatusCode = status,
            ContentTypes = { ProblemContentType },
        };
    }
}
