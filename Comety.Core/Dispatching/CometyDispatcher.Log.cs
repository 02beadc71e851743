using Microsoft.Extensions.Logging;

namespace Comety;

public sealed partial class CometyDispatcher
{
    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "User '{UserId}' registered; it receives the events after {RegisteredAt}.", EventName = "UserRegistered")]
        public static partial void UserRegistered(ILogger logger, string userId, long registeredAt);

        [LoggerMessage(2, LogLevel.Debug, "User '{UserId}' unregistered.", EventName = "UserUnregistered")]
        public static partial void UserUnregistered(ILogger logger, string userId);

        [LoggerMessage(3, LogLevel.Trace, "Event '{EventType}' dropped: no user is registered.", EventName = "EventDropped")]
        public static partial void EventDropped(ILogger logger, string eventType);

        [LoggerMessage(4, LogLevel.Debug, "The inbox of user '{UserId}' holds {MaxBacklog} events; it let go of event {Sequence}, and its pages that have not handled it must resynchronise.", EventName = "BacklogTrimmed")]
        public static partial void BacklogTrimmed(ILogger logger, string userId, int maxBacklog, long sequence);

        [LoggerMessage(5, LogLevel.Warning, "More than {MaxRetainedEvents} events are retained; every inbox lets go of the events before {Cutoff}, and pages that have not handled them must resynchronise.", EventName = "RetainedLimitReached")]
        public static partial void RetainedLimitReached(ILogger logger, int maxRetainedEvents, long cutoff);

        [LoggerMessage(6, LogLevel.Error, "A {LifecycleEvent} handler failed for user '{UserId}'.", EventName = "HandlerFailed")]
        public static partial void HandlerFailed(ILogger logger, LifecycleEvent lifecycleEvent, string? userId, Exception exception);

        [LoggerMessage(7, LogLevel.Error, "An Error handler failed for user '{UserId}'.", EventName = "ErrorHandlerFailed")]
        public static partial void ErrorHandlerFailed(ILogger logger, string? userId, Exception exception);

        [LoggerMessage(8, LogLevel.Error, "A request failed for user '{UserId}'.", EventName = "RequestFailed")]
        public static partial void RequestFailed(ILogger logger, string? userId, Exception exception);

        [LoggerMessage(9, LogLevel.Debug, "User '{UserId}' stopped polling: its heartbeat timed out.", EventName = "HeartbeatTimedOut")]
        public static partial void HeartbeatTimedOut(ILogger logger, string userId);

        [LoggerMessage(10, LogLevel.Debug, "A Disconnected handler kept user '{UserId}' registered.", EventName = "KeptRegistered")]
        public static partial void KeptRegistered(ILogger logger, string userId);

        [LoggerMessage(11, LogLevel.Error, "Handling the heartbeat timeout of user '{UserId}' failed.", EventName = "HeartbeatHandlingFailed")]
        public static partial void HeartbeatHandlingFailed(ILogger logger, string userId, Exception exception);

        [LoggerMessage(12, LogLevel.Error, "A timer callback failed.", EventName = "TimerCallbackFailed")]
        public static partial void TimerCallbackFailed(ILogger logger, Exception exception);

        [LoggerMessage(13, LogLevel.Debug, "A poll of user '{UserId}' was refused: {MaxPollsPerUser} of its polls are waiting already.", EventName = "PollRefused")]
        public static partial void PollRefused(ILogger logger, string userId, int maxPollsPerUser);

        // Debug: the caller is told (CometyController answers 403).
        [LoggerMessage(14, LogLevel.Debug, "A message from user '{UserId}' to channel '{Channel}' was refused: the user is not subscribed to it.", EventName = "MessageToUnsubscribedChannel")]
        public static partial void MessageToUnsubscribedChannel(ILogger logger, string userId, string channel);

        [LoggerMessage(15, LogLevel.Information, "Loaded the shared log (epoch {Epoch}): {UserCount} users as of {SnapshotSequence}, followed up to {LastDelivered}.", EventName = "SharedLogLoaded")]
        public static partial void SharedLogLoaded(ILogger logger, string epoch, int userCount, long snapshotSequence, long lastDelivered);

        [LoggerMessage(16, LogLevel.Error, "The shared log cannot be read or written; polls are answered 503 until it answers again.", EventName = "SharedLogFailed")]
        public static partial void SharedLogFailed(ILogger logger, Exception exception);

        [LoggerMessage(17, LogLevel.Information, "The shared log answers again.", EventName = "SharedLogAvailable")]
        public static partial void SharedLogAvailable(ILogger logger);

        [LoggerMessage(18, LogLevel.Warning, "The shared log's store changed (epoch {Before} to {After}, last sequence {Last}, this server had applied {Applied}): it was wiped or restored; every page resynchronises.", EventName = "SharedLogReset")]
        public static partial void SharedLogReset(ILogger logger, string? before, string after, long last, long applied);

        [LoggerMessage(19, LogLevel.Warning, "Reporting presence, deciding timeouts or trimming the shared log failed; trying again.", EventName = "ClusterDutiesFailed")]
        public static partial void ClusterDutiesFailed(ILogger logger, Exception exception);
    }
}
