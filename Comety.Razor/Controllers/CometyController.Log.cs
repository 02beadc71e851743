using Microsoft.Extensions.Logging;

namespace Comety;

public abstract partial class CometyController
{
    private static partial class Log
    {
        [LoggerMessage(101, LogLevel.Debug, "Poll for user '{UserId}' answered with {Count} events up to {LastId}.", EventName = "PollAnswered")]
        public static partial void PollAnswered(ILogger logger, string userId, int count, long lastId);

        [LoggerMessage(102, LogLevel.Debug, "Poll for user '{UserId}' abandoned by the client; its events stay until confirmed.", EventName = "PollAbandoned")]
        public static partial void PollAbandoned(ILogger logger, string userId);

        [LoggerMessage(103, LogLevel.Debug, "Invalid 'elapsed' parameter '{Elapsed}' from user '{UserId}' ignored.", EventName = "InvalidElapsedIgnored")]
        public static partial void InvalidElapsedIgnored(ILogger logger, string userId, string elapsed);

        [LoggerMessage(104, LogLevel.Trace, "Network delay of user '{UserId}' measured at {DelayMilliseconds} ms.", EventName = "NetworkDelayMeasured")]
        public static partial void NetworkDelayMeasured(ILogger logger, string userId, double delayMilliseconds);

        [LoggerMessage(105, LogLevel.Debug, "{Method} for user '{UserId}' rejected with {Status}: {Reason}", EventName = "RequestRejected")]
        public static partial void RequestRejected(ILogger logger, string method, string? userId, int status, string reason);

        [LoggerMessage(107, LogLevel.Error, "{Controller} has no dispatcher: call services.AddComety() or override GetDispatcher().", EventName = "NoDispatcher")]
        public static partial void NoDispatcher(ILogger logger, string controller);

        [LoggerMessage(108, LogLevel.Debug, "{Type} from user '{UserId}' handled (channel '{Channel}').", EventName = "SendHandled")]
        public static partial void SendHandled(ILogger logger, string userId, string type, string? channel);

        [LoggerMessage(109, LogLevel.Error, "{Method} failed in {Controller} before its user was identified.", EventName = "IdentificationFailed")]
        public static partial void IdentificationFailed(ILogger logger, string method, string controller, Exception exception);

        [LoggerMessage(110, LogLevel.Information, "{Method} for user '{UserId}' answered 503: the application is stopping.", EventName = "ShuttingDown")]
        public static partial void ShuttingDown(ILogger logger, string method, string userId);

        [LoggerMessage(111, LogLevel.Debug, "'{Type}' of channel '{Channel}' for user '{UserId}' refused: {Reason}.", EventName = "ChannelRequestRefused")]
        public static partial void ChannelRequestRefused(ILogger logger, string type, string userId, string channel, string reason);

        [LoggerMessage(112, LogLevel.Debug, "Stream for user '{UserId}' ended after its duration with {Count} events, up to {LastId}.", EventName = "StreamEnded")]
        public static partial void StreamEnded(ILogger logger, string userId, int count, long lastId);

        [LoggerMessage(113, LogLevel.Debug, "Stream for user '{UserId}' closed by the client after {Count} events; it resumes from its last event.", EventName = "StreamAbandoned")]
        public static partial void StreamAbandoned(ILogger logger, string userId, int count);

        // Warning, not Error: the dispatcher logs the store's failure once, at Error.
        [LoggerMessage(114, LogLevel.Warning, "{Method} for user '{UserId}' answered 503: the event log cannot be reached.", EventName = "EventLogUnavailable")]
        public static partial void EventLogUnavailable(ILogger logger, string method, string userId);
    }
}
