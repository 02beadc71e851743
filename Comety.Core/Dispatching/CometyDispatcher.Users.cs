using Comety.Internal;

namespace Comety;

public sealed partial class CometyDispatcher
{
    /// <summary>
    /// Registers a user. Its window starts after the last event delivered so far: it never sees
    /// earlier events. Its heartbeat starts as if it had no measured network delay.
    /// </summary>
    /// <param name="userId">The user's id, unique within this dispatcher.</param>
    /// <param name="notify">Whether to post a <c>register-user</c> event, which every user, the new one included, receives.</param>
    /// <param name="cancellationToken">Cancels the registration before it happens.</param>
    /// <returns>A task that completes when the user is registered and the <see cref="LifecycleEvent.Connected"/> handlers have run.</returns>
    /// <exception cref="DuplicateUserException">The id is already registered (<see cref="EnsureRegisteredAsync"/> registers only when it is not).</exception>
    public async ValueTask RegisterUserAsync(string userId, bool notify = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ThrowIfDisposed();
        if (_shared is not null)
        {
            if (!await RegisterSharedAsync(userId, cancellationToken))
            {
                throw new DuplicateUserException(userId);
            }

            await CompleteRegistrationAsync(_users[userId], notify, cancellationToken);
            return;
        }

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

        await CompleteRegistrationAsync(user, notify, cancellationToken);
    }

    /// <summary>
    /// Registers a user unless it is registered already, as a page that any number of requests may
    /// render at once needs: however many calls race, the user is registered once, and
    /// <see cref="LifecycleEvent.Connected"/> (and <c>register-user</c>) happens once.
    /// </summary>
    /// <param name="userId">The user's id.</param>
    /// <param name="notify">Whether a registration posts a <c>register-user</c> event, which every user, the new one included, receives.</param>
    /// <param name="cancellationToken">Cancels the call while it waits for the registration gate or for a leaving user to be gone.</param>
    /// <returns>
    /// <see langword="true"/> when this call registered the user, once its
    /// <see cref="LifecycleEvent.Connected"/> handlers have run; <see langword="false"/> when the user
    /// was registered already (another call's Connected handlers may still be running).
    /// </returns>
    /// <remarks>
    /// A user that is leaving (being unregistered, or timed out, with its Unsubscribed and Finished
    /// handlers running) is not registered any more: the call waits until it is gone and then
    /// registers it afresh, returning <see langword="true"/>. It does not take over the leaving
    /// user's state: the application's Finished handlers run to the end for the old registration
    /// before Connected runs for the new one, and the new one starts with no channels and no events.
    /// </remarks>
    /// <exception cref="ArgumentException">The id is null or empty.</exception>
    public async ValueTask<bool> EnsureRegisteredAsync(string userId, bool notify = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        while (true)
        {
            ThrowIfDisposed();
            UserState? added = null;
            UserState? leaving = null;
            if (_shared is not null)
            {
                await WhenLoadedAsync(cancellationToken);
                if (_users.TryGetValue(userId, out var present))
                {
                    if (!present.Leaving)
                    {
                        return false;
                    }

                    await WaitUntilGoneAsync(present, cancellationToken);
                    continue;
                }

                if (!await RegisterSharedAsync(userId, cancellationToken))
                {
                    // Another server registered the user first; its Connected handlers run there.
                    return false;
                }

                await CompleteRegistrationAsync(_users[userId], notify, cancellationToken);
                return true;
            }

            // Registrations take the gate, so a check and an add under it cannot race another
            // registration; removals only ever take users out.
            await _deliveryGate.WaitAsync(cancellationToken);
            try
            {
                if (!_users.TryGetValue(userId, out var existing))
                {
                    added = new UserState(userId, _lastDelivered, _onHeartbeatDue);
                    _users[userId] = added;
                    Interlocked.Increment(ref _userCount);
                }
                else if (existing.Leaving)
                {
                    leaving = existing;
                }
                else
                {
                    return false;
                }
            }
            finally
            {
                _deliveryGate.Release();
            }

            if (added is not null)
            {
                await CompleteRegistrationAsync(added, notify, cancellationToken);
                return true;
            }

            await WaitUntilGoneAsync(leaving!, cancellationToken);
        }
    }

    // Appends a shared log's registration record; false when the user was registered (here or on
    // another server) before it.
    private async ValueTask<bool> RegisterSharedAsync(string userId, CancellationToken cancellationToken)
    {
        await WhenLoadedAsync(cancellationToken);
        if (_users.ContainsKey(userId))
        {
            return false;
        }

        return await AppendMembershipAsync(LogRecordKind.UserRegistered, userId, null, cancellationToken);
    }

    // What follows a registration once the user is in the table.
    private async ValueTask CompleteRegistrationAsync(UserState user, bool notify, CancellationToken cancellationToken)
    {
        RestartHeartbeat(user, InitialHeartbeatTimeout);
        Log.UserRegistered(_logger, user.Id, user.RegisteredAt);
        if (notify)
        {
            await PostSystemEventAsync("register-user", user.Id, cancellationToken);
        }

        await RaiseAsync(LifecycleEvent.Connected, user, cancellationToken: cancellationToken);
    }

    // Waits until a leaving user is out of the table. Its removal wakes the user's waiters (under
    // the user's lock, so a wake-up cannot slip between the check and the wait) once its handlers
    // have run, then takes it out without awaiting anything: in that last step, yielding is enough.
    private async ValueTask WaitUntilGoneAsync(UserState user, CancellationToken cancellationToken)
    {
        while (_users.TryGetValue(user.Id, out var current) && ReferenceEquals(current, user))
        {
            ThrowIfDisposed();
            Task? wakeUp;
            lock (user)
            {
                wakeUp = user.Registered ? user.WaitForWakeUp() : null;
            }

            if (wakeUp is null)
            {
                await Task.Yield();
            }
            else
            {
                // Any wake-up (an event delivered meanwhile, say) only sends the loop round again.
                await wakeUp.WaitAsync(cancellationToken);
            }
        }
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

        if (_shared is not null)
        {
            try
            {
                // Every server takes the user out as it reads the record, this one too.
                await AppendMembershipAsync(LogRecordKind.UserUnregistered, user.Id, null, CancellationToken.None, channels);
            }
            catch
            {
                // Not gone: the user stays registered, and may leave again later.
                lock (user)
                {
                    user.Leaving = false;
                }

                throw;
            }

            Log.UserUnregistered(_logger, user.Id);
            if (notify)
            {
                await PostSystemEventAsync("unregister-user", user.Id, cancellationToken);
            }

            return true;
        }

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
