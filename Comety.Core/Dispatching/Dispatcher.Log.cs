using Microsoft.Extensions.Logging;

namespace Comety;

public sealed partial class Dispatcher
{
    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "User '{UserId}' registered; its window starts after event {Confirmed}.", EventName = "UserRegistered")]
        public static partial void UserRegistered(ILogger logger, string userId, long confirmed);

        [LoggerMessage(2, LogLevel.Debug, "User '{UserId}' unregistered.", EventName = "UserUnregistered")]
        public static partial void UserUnregistered(ILogger logger, string userId);

        [LoggerMessage(3, LogLevel.Trace, "Event '{EventType}' dropped: no user is registered.", EventName = "EventDropped")]
        public static partial void EventDropped(ILogger logger, string eventType);

        [LoggerMessage(4, LogLevel.Warning, "User '{UserId}' fell {Count} unconfirmed events behind at event {Sequence}; its backlog was dropped and it must resynchronise.", EventName = "BacklogOverflowed")]
        public static partial void BacklogOverflowed(ILogger logger, string userId, int count, long sequence);

        [LoggerMessage(5, LogLevel.Warning, "More than {MaxRetainedEvents} events are retained; users holding events before {Cutoff} must resynchronise.", EventName = "RetainedLimitReached")]
        public static partial void RetainedLimitReached(ILogger logger, int maxRetainedEvents, long cutoff);

        [LoggerMessage(6, LogLevel.Error, "A {LifecycleEvent} handler failed for user '{UserId}'.", EventName = "HandlerFailed")]
        public static partial void HandlerFailed(ILogger logger, LifecycleEvent lifecycleEvent, string? userId, Exception exception);

        [LoggerMessage(7, LogLevel.Error, "An Error handler failed for user '{UserId}'.", EventName = "ErrorHandlerFailed")]
        public static partial void ErrorHandlerFailed(ILogger logger, string? userId, Exception exception);

        [LoggerMessage(8, LogLevel.Warning, "A request failed for user '{UserId}'.", EventName = "RequestFailed")]
        public static partial void RequestFailed(ILogger logger, string? userId, Exception exception);

        [LoggerMessage(9, LogLevel.Debug, "User '{UserId}' stopped polling: its heartbeat timed out.", EventName = "HeartbeatTimedOut")]
        public static partial void HeartbeatTimedOut(ILogger logger, string userId);

        [LoggerMessage(10, LogLevel.Debug, "A Disconnected handler kept user '{UserId}' registered.", EventName = "KeptRegistered")]
        public static partial void KeptRegistered(ILogger logger, string userId);

        [LoggerMessage(11, LogLevel.Error, "Handling the heartbeat timeout of user '{UserId}' failed.", EventName = "HeartbeatHandlingFailed")]
        public static partial void HeartbeatHandlingFailed(ILogger logger, string userId, Exception exception);

        [LoggerMessage(12, LogLevel.Error, "A timer callback failed.", EventName = "TimerCallbackFailed")]
        public static partial void TimerCallbackFailed(ILogger logger, Exception exception);

        // Debug: the caller is told (CometyController answers 403 and logs that as a warning).
        [LoggerMessage(13, LogLevel.Debug, "A message from user '{UserId}' to channel '{Channel}' was refused: the user is not subscribed to it.", EventName = "MessageToUnsubscribedChannel")]
        public static partial void MessageToUnsubscribedChannel(ILogger logger, string userId, string channel);
    }
}
