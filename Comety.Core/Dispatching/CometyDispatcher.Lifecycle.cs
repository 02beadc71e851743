using System.Text.Json;
using Comety.Internal;

namespace Comety;

public sealed partial class CometyDispatcher
{
    // Until a user's network delay is measured, its heartbeat allows five more heartbeat timeouts:
    // the one place this rule is written.
    private TimeSpan UnmeasuredNetworkDelay => _options.HeartbeatTimeout * 5;

    private TimeSpan InitialHeartbeatTimeout => _options.HeartbeatTimeout + UnmeasuredNetworkDelay;

    /// <summary>
    /// Binds a handler to a lifecycle event. With a channel pattern (a regular expression, matched
    /// anywhere in the name unless anchored), a <see cref="LifecycleEvent.Subscribed"/> or
    /// <see cref="LifecycleEvent.Unsubscribed"/> handler runs for the channels it matches; other
    /// handlers run when the user is subscribed to a matching channel (for a message sent to a
    /// channel: when that channel matches). Without a pattern, those other handlers run only for
    /// users subscribed to no channel.
    /// </summary>
    /// <param name="lifecycleEvent">The event to handle.</param>
    /// <param name="handler">
    /// The handler. It runs on the thread that raised the event, one handler after another; if it
    /// throws, the failure is logged and raises <see cref="LifecycleEvent.Error"/>, and the
    /// dispatcher carries on.
    /// </param>
    /// <param name="channelPattern">The channel pattern, or <see langword="null"/>; <see cref="LifecycleEvent.Connected"/> takes none.</param>
    /// <returns>An object whose disposal unbinds the handler.</returns>
    /// <exception cref="ArgumentException">The pattern is not a valid regular expression, or was given for <see cref="LifecycleEvent.Connected"/>.</exception>
    public IDisposable On(LifecycleEvent lifecycleEvent, Func<LifecycleContext, ValueTask> handler, string? channelPattern = null) =>
        _handlers.Add(lifecycleEvent, handler, channelPattern);

    /// <summary>
    /// Hands data a user's page sent to the <see cref="LifecycleEvent.Message"/> handlers. A message
    /// sent to a channel runs them only when the user is subscribed to that channel, so that a page
    /// cannot speak in a channel it does not (or no longer) hear.
    /// </summary>
    /// <param name="userId">The sending user's id.</param>
    /// <param name="data">The data.</param>
    /// <param name="channel">The channel the message was sent to, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Passed to the handlers.</param>
    /// <returns>
    /// <see langword="true"/> when the handlers have run (or none was bound); <see langword="false"/>
    /// when the message was sent to a channel the user is not subscribed to, and no handler ran.
    /// </returns>
    /// <exception cref="UnknownUserException">The user is not registered.</exception>
    /// <exception cref="ArgumentException">The channel name is invalid.</exception>
    public async ValueTask<bool> ReceiveMessageAsync(string userId, JsonElement data, string? channel = null, CancellationToken cancellationToken = default)
    {
        if (channel is not null)
        {
            ChannelName.ThrowIfInvalid(channel, nameof(channel));
        }

        var user = GetUser(userId);
        var userChannels = ChannelsOf(user);
        if (channel is not null && Array.IndexOf(userChannels, channel) < 0)
        {
            Log.MessageToUnsubscribedChannel(_logger, userId, channel);
            return false;
        }

        await RaiseAsync(LifecycleEvent.Message, user, channel, userChannels, data, cancellationToken);
        return true;
    }

    /// <summary>Logs a failure (at Error: it is the server's own fault) and hands it to the <see cref="LifecycleEvent.Error"/> handlers.</summary>
    /// <param name="userId">The user concerned, or <see langword="null"/>.</param>
    /// <param name="exception">What failed.</param>
    /// <param name="cancellationToken">Passed to the handlers.</param>
    /// <returns>A task that completes when the handlers have run.</returns>
    public async ValueTask ReportErrorAsync(string? userId, Exception exception, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exception);
        Log.RequestFailed(_logger, userId, exception);
        UserState? user = null;
        if (userId is not null)
        {
            _users.TryGetValue(userId, out user);
        }

        await RaiseErrorAsync(user, userId, exception, cancellationToken);
    }

    /// <summary>
    /// Starts (or restarts) a user's heartbeat: unless it is stopped or restarted within
    /// <see cref="DispatcherOptions.HeartbeatTimeout"/> plus <paramref name="expectedNetworkDelay"/>,
    /// the user is treated as disconnected. A poll stops it when it starts and starts it when it ends;
    /// while another poll of the same user (another tab, a poll the client replaced) is still
    /// being answered, this does nothing, and that poll's end starts it.
    /// </summary>
    /// <param name="userId">The user's id.</param>
    /// <param name="expectedNetworkDelay">
    /// The user's expected network delay, added to the timeout; <see langword="null"/> while none
    /// has been measured, which allows five heartbeat timeouts more.
    /// </param>
    /// <exception cref="UnknownUserException">The user is not registered.</exception>
    public void StartHeartbeat(string userId, TimeSpan? expectedNetworkDelay)
    {
        if (expectedNetworkDelay is { } given)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(given, TimeSpan.Zero, nameof(expectedNetworkDelay));
        }

        var user = GetUser(userId);
        lock (user)
        {
            if (user.ActivePolls > 0)
            {
                return;
            }
        }

        RestartHeartbeat(user, _options.HeartbeatTimeout + (expectedNetworkDelay ?? UnmeasuredNetworkDelay));
    }

    /// <summary>Stops a user's heartbeat, as a poll does while it is served.</summary>
    /// <param name="userId">The user's id.</param>
    /// <exception cref="UnknownUserException">The user is not registered.</exception>
    public void StopHeartbeat(string userId)
    {
        var user = GetUser(userId);
        lock (user)
        {
            user.HeartbeatVersion++;
        }

        // Suspended, not cancelled: the poll restarts it when it ends, most often to a later
        // time, which then keeps the entry's place in the timer's heap. On a shared log, the poll
        // being answered is reported alive.
        if (_shared is null)
        {
            _timer.Suspend(user.Heartbeat);
        }
    }

    private void RestartHeartbeat(UserState user, TimeSpan timeout)
    {
        lock (user)
        {
            if (user.Leaving)
            {
                return;
            }

            user.HeartbeatVersion++;
        }

        if (_shared is not null)
        {
            // Decided for the cluster by the leader, from the deadlines every server reports.
            NoteDeadline(user, timeout);
            return;
        }

        _timer.Reset(user.Heartbeat, timeout);
    }

    // On the timer's thread: the lifecycle handlers run on the thread pool instead.
    private void OnHeartbeatDue(UserState user)
    {
        int version;
        lock (user)
        {
            if (user.Leaving)
            {
                return;
            }

            version = user.HeartbeatVersion;
        }

        _ = Task.Run(() => OnHeartbeatTimedOutAsync(user, version));
    }

    private async Task OnHeartbeatTimedOutAsync(UserState user, int version)
    {
        try
        {
            Log.HeartbeatTimedOut(_logger, user.Id);
            var context = await RaiseAsync(LifecycleEvent.Disconnected, user);
            lock (user)
            {
                // The user polled again meanwhile, or is already leaving.
                if (user.HeartbeatVersion != version || user.Leaving)
                {
                    return;
                }
            }

            if (context?.KeepRegistered == true)
            {
                Log.KeptRegistered(_logger, user.Id);
                RestartHeartbeat(user, InitialHeartbeatTimeout);
                return;
            }

            await RemoveUserAsync(user, _options.NotifyOnTimeout, CancellationToken.None);
        }
        catch (Exception e) when (!_disposed)
        {
            Log.HeartbeatHandlingFailed(_logger, user.Id, e);
        }
        catch (ObjectDisposedException)
        {
            // The dispatcher went away while the user was leaving.
        }
    }

    // Runs the handlers bound to an event; returns the context they saw, or null when none ran.
    private async ValueTask<LifecycleContext?> RaiseAsync(
        LifecycleEvent lifecycleEvent,
        UserState user,
        string? channel = null,
        IReadOnlyCollection<string>? userChannels = null,
        JsonElement? data = null,
        CancellationToken cancellationToken = default)
    {
        if (!_handlers.HasAny(lifecycleEvent))
        {
            return null;
        }

        var handlers = _handlers.Select(lifecycleEvent, channel, userChannels ?? ChannelsOf(user));
        if (handlers.Count == 0)
        {
            return null;
        }

        // A context per handler, for its own matched channels; whether to keep a disconnected user
        // is handed on from one to the next, so that each handler sees (and may undo) the last word.
        LifecycleContext? context = null;
        foreach (var (handler, matched) in handlers)
        {
            context = new LifecycleContext(this, lifecycleEvent, user.Id, channel, matched, data, cancellationToken: cancellationToken)
            {
                KeepRegistered = context?.KeepRegistered ?? false,
            };
            try
            {
                await handler(context);
            }
            catch (Exception e)
            {
                Log.HandlerFailed(_logger, lifecycleEvent, user.Id, e);
                await RaiseErrorAsync(user, user.Id, e, cancellationToken);
            }
        }

        return context;
    }

    private async ValueTask RaiseErrorAsync(UserState? user, string? userId, Exception exception, CancellationToken cancellationToken)
    {
        if (!_handlers.HasAny(LifecycleEvent.Error))
        {
            return;
        }

        var handlers = _handlers.Select(LifecycleEvent.Error, null, user is null ? [] : ChannelsOf(user));
        foreach (var (handler, matched) in handlers)
        {
            var context = new LifecycleContext(this, LifecycleEvent.Error, userId, matchedChannels: matched, exception: exception, cancellationToken: cancellationToken);
            try
            {
                await handler(context);
            }
            catch (Exception e)
            {
                // An error handler's own failure is only logged: raising it again could loop.
                Log.ErrorHandlerFailed(_logger, userId, e);
            }
        }
    }

    private static string[] ChannelsOf(UserState user)
    {
        lock (user)
        {
            return [.. user.Channels];
        }
    }
}
