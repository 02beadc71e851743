using Comety.Internal;

namespace Comety;

public sealed partial class Dispatcher
{
    /// <summary>
    /// Registers a user. Its window starts after the last event delivered so far: it never sees
    /// earlier events. Its heartbeat starts as if it had no measured network delay.
    /// </summary>
    /// <param name="userId">The user's id, unique within this dispatcher.</param>
    /// <param name="notify">Whether to post a <c>register-user</c> event, which every user, the new one included, receives.</param>
    /// <param name="cancellationToken">Cancels the registration before it happens.</param>
    /// <returns>A task that completes when the user is registered and the <see cref="LifecycleEvent.Connected"/> handlers have run.</returns>
    /// <exception cref="DuplicateUserException">The id is already registered.</exception>
    public async ValueTask RegisterUserAsync(string userId, bool notify = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ThrowIfDisposed();
        UserState user;
        await _deliveryGate.WaitAsync(cancellationToken);
        try
        {
            user = new UserState(userId, _lastDelivered, _onHeartbeatDue);
            if (!_users.TryAdd(userId, user))
            {
                throw new DuplicateUserException(userId);
            }

            Interlocked.Increment(ref _userCount);
        }
        finally
        {
            _deliveryGate.Release();
        }

        RestartHeartbeat(user, InitialHeartbeatTimeout);
        Log.UserRegistered(_logger, userId, user.RegisteredAt);
        if (notify)
        {
            await PostSystemEventAsync("register-user", userId, cancellationToken);
        }

        await RaiseAsync(LifecycleEvent.Connected, user, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Unregisters a user: raises <see cref="LifecycleEvent.Unsubscribed"/> for each of its
    /// channels, then <see cref="LifecycleEvent.Finished"/>, then drops its subscriptions and its
    /// unconfirmed events. Its waiting polls fail with <see cref="UnknownUserException"/>.
    /// </summary>
    /// <param name="userId">The user's id.</param>
    /// <param name="notify">Whether to post an <c>unregister-user</c> event, which the other users receive.</param>
    /// <param name="cancellationToken">Passed to the lifecycle handlers.</param>
    /// <returns>A task that completes when the user is gone.</returns>
    /// <exception cref="UnknownUserException">The id is not registered, or the user is already leaving.</exception>
    public async ValueTask UnregisterUserAsync(string userId, bool notify = false, CancellationToken cancellationToken = default)
    {
        var user = GetUser(userId);
        if (!await RemoveUserAsync(user, notify, cancellationToken))
        {
            throw new UnknownUserException(userId);
        }
    }

    /// <summary>Returns whether a user is registered.</summary>
    /// <param name="userId">The user's id.</param>
    /// <returns><see langword="true"/> when the id is registered and the user is not leaving.</returns>
    public bool IsRegistered(string userId)
    {
        ArgumentNullException.ThrowIfNull(userId);
        return _users.TryGetValue(userId, out var user) && !user.Leaving;
    }

    private async ValueTask<bool> RemoveUserAsync(UserState user, bool notify, CancellationToken cancellationToken)
    {
        string[] channels;
        lock (user)
        {
            if (user.Leaving)
            {
                return false;
            }

            user.Leaving = true;
            user.HeartbeatVersion++;
            channels = [.. user.Channels];
        }

        _timer.Cancel(user.Heartbeat);

        // django-socketio's order on the way out: an unsubscribe per channel, then finish,
        // with the subscriptions still in place so that channel patterns match.
        foreach (var channel in channels)
        {
            await RaiseAsync(LifecycleEvent.Unsubscribed, user, channel, channels, cancellationToken: cancellationToken);
        }

        await RaiseAsync(LifecycleEvent.Finished, user, userChannels: channels, cancellationToken: cancellationToken);

        TaskCompletionSource? signal;
        bool released;
        lock (user)
        {
            foreach (var channel in user.Channels)
            {
                RemoveFromChannel(user, channel);
            }

            user.Channels.Clear();
            user.Registered = false;
            released = ReleaseInbox(user);
            signal = user.TakeSignal();
        }

        _users.TryRemove(KeyValuePair.Create(user.Id, user));
        Interlocked.Decrement(ref _userCount);
        signal?.TrySetResult();
        Log.UserUnregistered(_logger, user.Id);
        if (released)
        {
            await PurgeAsync();
        }

        if (notify)
        {
            await PostSystemEventAsync("unregister-user", user.Id, cancellationToken);
        }

        return true;
    }

    private ValueTask<long?> PostSystemEventAsync(string type, string userId, CancellationToken cancellationToken) =>
        PostAsync(new CometyEvent(SenderName, new Dictionary<string, object?>
        {
            [CometyEvent.TypeArgument] = type,
            ["userId"] = userId,
        }), cancellationToken);
}
