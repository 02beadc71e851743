using System.Buffers;
using System.Text.Json;
using Comety.Internal;
using Microsoft.AspNetCore.Antiforgery;
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
    private const string SessionKeyPrefix = "Comety.NetworkDelay:";

    // The problem member that tells a script which 403 it got (PROTOCOL.md): a page with no user
    // must never reload itself, one whose user is unknown may reload once to register again.
    private const string ReasonMember = "reason";
    private const string NoUserReason = "no-user";
    private const string NotRegisteredReason = "not-registered";
    private const string NotSubscribedReason = "not-subscribed";

    private CometyOptions? _options;
    private ILogger? _logger;
    private TimeProvider? _clock;

    /// <summary>Gets the Comety options.</summary>
    protected CometyOptions Options =>
        _options ??= HttpContext.RequestServices.GetService<IOptions<CometyOptions>>()?.Value ?? new CometyOptions();

    // ILogger<T> is a singleton: no logger factory lookup (and lock) per request.
    private ILogger Logger =>
        _logger ??= HttpContext.RequestServices.GetService<ILogger<CometyController>>() ?? (ILogger)NullLogger.Instance;

    private TimeProvider Clock => _clock ??= HttpContext.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System;

    /// <summary>
    /// Answers a poll: confirms what the client says it handled, then returns the user's
    /// unconfirmed events at once or as soon as one arrives, or no events when the hold time passes.
    /// </summary>
    /// <returns>200 with <c>{"lastId", "events"}</c>; 400, 403, 409 or 500 with a problem description.</returns>
    /// <remarks>
    /// Unless the controller, this action or <see cref="MvcOptions.Filters"/> has a filter that
    /// would act on it, a poll is served without MVC's action invoker: the controller is created by
    /// MVC's factory and this method's result executed directly; endpoint metadata and middleware
    /// apply as for any action.
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

        var invalid = PollQuery.TryParse(Request.QueryString, Options.MaxClientTimeout, dispatcher.LastSequence, out var query);
        if (invalid is not null)
        {
            return Reject(StatusCodes.Status400BadRequest, "Invalid poll", invalid, userId);
        }

        if (query.InvalidElapsed is not null)
        {
            Log.InvalidElapsedIgnored(Logger, userId, query.InvalidElapsed);
        }

        if (!dispatcher.IsRegistered(userId))
        {
            return NotRegistered(userId);
        }

        var aborted = HttpContext.RequestAborted;
        TimeSpan? expectedDelay = null;
        try
        {
            // Inside the try: the user may leave between the check above and here.
            StopHeartbeat(dispatcher, userId);
            (expectedDelay, var sessionEstimator) = await MeasureNetworkDelayAsync(dispatcher, userId, arrivedAt, query.Elapsed, aborted);
            if (query.Confirm is { } confirm)
            {
                await dispatcher.ConfirmAsync(userId, confirm, aborted);
            }

            var hold = query.Timeout * Options.ResponseTimeoutFactor - (expectedDelay ?? TimeSpan.Zero);
            var result = await dispatcher.PollAsync(userId, hold > TimeSpan.Zero ? hold : TimeSpan.Zero, cancellationToken: aborted);
            if (result.MustResynchronize)
            {
                return Reject(StatusCodes.Status409Conflict, "Resynchronise", $"User '{userId}' fell more than {Options.MaxBacklog} events behind and lost them; reload the page.", userId);
            }

            Log.PollAnswered(Logger, userId, result.Events?.Count ?? 0, result.LastId);
            NoteResponse(dispatcher, userId, sessionEstimator);
            return new PollResultActionResult(result);
        }
        catch (UnknownUserException)
        {
            return NotRegistered(userId);
        }
        catch (ArgumentOutOfRangeException e) when (e.ParamName == "sequence")
        {
            return Reject(StatusCodes.Status400BadRequest, "Invalid poll", e.Message.Split(Environment.NewLine)[0], userId);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away; its events stay until it confirms them.
            Log.PollAbandoned(Logger, userId);
            return new EmptyResult();
        }
        catch (Exception e)
        {
            return await FailAsync(dispatcher, userId, e);
        }
        finally
        {
            if (dispatcher.IsRegistered(userId))
            {
                StartHeartbeat(dispatcher, userId, expectedDelay);
            }
        }
    }

    /// <summary>Takes what a page sends: a subscription, an unsubscription or a message for the application's handlers.</summary>
    /// <returns>204 when done; 400, 403, 413, 415 or 500 with a problem description.</returns>
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

        if (!dispatcher.IsRegistered(userId))
        {
            return NotRegistered(userId);
        }

        var aborted = HttpContext.RequestAborted;
        try
        {
            var antiforgery = HttpContext.RequestServices.GetService<IAntiforgery>();
            if (Options.ValidateAntiforgery && antiforgery is not null && !await antiforgery.IsRequestValidAsync(HttpContext))
            {
                return Reject(StatusCodes.Status403Forbidden, "Antiforgery token missing or invalid", "The request needs the page's antiforgery token in the RequestVerificationToken header.", userId);
            }

            if (!MediaTypeHeaderValue.TryParse(Request.ContentType, out var contentType)
                || !contentType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
            {
                return Reject(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", $"Send JSON with Content-Type: application/json; got '{Request.ContentType}'.", userId);
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
                return Reject(StatusCodes.Status413PayloadTooLarge, "Message too large", $"A message may have at most {Options.MaxMessageBytes} bytes.", userId);
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
                        return Reject(StatusCodes.Status403Forbidden, "Subscription refused", $"User '{userId}' may not subscribe to '{request.Channel}'.", userId);
                    }

                    await dispatcher.SubscribeAsync(userId, request.Channel!, aborted);
                    break;
                case SendRequest.Unsubscribe:
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
    protected virtual Dispatcher? GetDispatcher() => HttpContext.RequestServices.GetService<Dispatcher>();

    /// <summary>Decides whether a user may subscribe to a channel; by default every user may subscribe to every channel.</summary>
    /// <param name="userId">The user's id.</param>
    /// <param name="channel">The channel it asks for.</param>
    /// <param name="cancellationToken">Signals that the client went away.</param>
    /// <returns><see langword="true"/> to subscribe the user; <see langword="false"/> to refuse with 403.</returns>
    protected virtual ValueTask<bool> AuthorizeSubscriptionAsync(string userId, string channel, CancellationToken cancellationToken) =>
        ValueTask.FromResult(true);

    /// <summary>
    /// Measures the network delay of a poll and returns the user's expected delay. By default a
    /// <see cref="NetworkDelayEstimator"/> kept in the session when the application has one, and
    /// with the user otherwise.
    /// </summary>
    /// <param name="estimator">The user's estimator, with this poll's measurement already added.</param>
    /// <returns>The expected delay, or <see langword="null"/> while nothing has been measured.</returns>
    protected virtual TimeSpan? EstimateNetworkDelay(NetworkDelayEstimator estimator) =>
        estimator.MeasurementCount == 0 ? null : estimator.ExpectedDelay;

    /// <summary>Stops the user's heartbeat while a poll is served.</summary>
    /// <param name="dispatcher">The dispatcher.</param>
    /// <param name="userId">The user's id.</param>
    protected virtual void StopHeartbeat(Dispatcher dispatcher, string userId) => dispatcher.StopHeartbeat(userId);

    /// <summary>
    /// Starts the user's heartbeat when a poll ends: <see cref="CometyOptions.HeartbeatTimeout"/>
    /// plus the expected network delay, or five heartbeat timeouts while it is unmeasured.
    /// </summary>
    /// <param name="dispatcher">The dispatcher.</param>
    /// <param name="userId">The user's id.</param>
    /// <param name="expectedNetworkDelay">The expected delay, or <see langword="null"/> while nothing has been measured.</param>
    protected virtual void StartHeartbeat(Dispatcher dispatcher, string userId, TimeSpan? expectedNetworkDelay)
    {
        try
        {
            dispatcher.StartHeartbeat(userId, expectedNetworkDelay ?? dispatcher.Options.HeartbeatTimeout * 5);
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

    private bool TryIdentify(out Dispatcher dispatcher, out string userId, out IActionResult failure)
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

    // With a session, the estimator is read here and written once, with the response time, when
    // the poll is answered: a poll that ends after another request changed the session (a sign-out,
    // say) writes nothing, so it cannot put back what that request removed.
    private async ValueTask<(TimeSpan? Expected, NetworkDelayEstimator? FromSession)> MeasureNetworkDelayAsync(
        Dispatcher dispatcher, string userId, DateTimeOffset arrivedAt, TimeSpan? elapsed, CancellationToken cancellationToken)
    {
        if (await LoadSessionAsync(cancellationToken) is { } session)
        {
            var estimator = NetworkDelayEstimator.Parse(session.GetString(SessionKeyPrefix + userId));
            if (estimator.OnRequest(arrivedAt, elapsed) is { } delay)
            {
                Log.NetworkDelayMeasured(Logger, userId, delay.TotalMilliseconds);
            }

            return (EstimateNetworkDelay(estimator), estimator);
        }

        var shared = dispatcher.FindNetworkDelayEstimator(userId);
        if (shared is null)
        {
            return (null, null);
        }

        lock (shared)
        {
            if (shared.OnRequest(arrivedAt, elapsed) is { } delay)
            {
                Log.NetworkDelayMeasured(Logger, userId, delay.TotalMilliseconds);
            }

            return (EstimateNetworkDelay(shared), null);
        }
    }

    private void NoteResponse(Dispatcher dispatcher, string userId, NetworkDelayEstimator? fromSession)
    {
        var sentAt = Clock.GetUtcNow();
        if (fromSession is not null)
        {
            fromSession.OnResponse(sentAt);
            HttpContext.Session.SetString(SessionKeyPrefix + userId, fromSession.ToString());
            return;
        }

        if (dispatcher.FindNetworkDelayEstimator(userId) is { } shared)
        {
            lock (shared)
            {
                shared.OnResponse(sentAt);
            }
        }
    }

    private async ValueTask<ISession?> LoadSessionAsync(CancellationToken cancellationToken)
    {
        var session = HttpContext.Features.Get<ISessionFeature>()?.Session;
        if (session is null)
        {
            return null;
        }

        await session.LoadAsync(cancellationToken);
        return session.IsAvailable ? session : null;
    }

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
        Reject(StatusCodes.Status403Forbidden, "Not registered", $"User '{userId}' is not registered (any more); reload the page.", userId, NotRegisteredReason);

    private ObjectResult Reject(int status, string title, string detail, string? userId, string? reason = null)
    {
        Log.RequestRejected(Logger, Request.Method, userId, status, detail);
        return ProblemResult(status, title, detail, reason);
    }

    private async Task<IActionResult> FailAsync(Dispatcher dispatcher, string userId, Exception exception)
    {
        if (exception is ObjectDisposedException { ObjectName: var name } && name == typeof(Dispatcher).FullName)
        {
            // Not a failure: the application is stopping. The script retries after a 5xx.
            Log.ShuttingDown(Logger, Request.Method, userId);
            return ProblemResult(StatusCodes.Status500InternalServerError, "Shutting down", "The server is stopping; try again shortly.");
        }

        Log.RequestFailed(Logger, Request.Method, userId, exception);
        try
        {
            await dispatcher.ReportErrorAsync(userId, exception);
        }
        catch (ObjectDisposedException)
        {
            // Shutting down.
        }

        return ProblemResult(StatusCodes.Status500InternalServerError, "Server error", "The server failed to handle the request.");
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
