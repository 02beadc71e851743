using Comety.Internal;

namespace Comety;

public sealed partial class Dispatcher
{
    /// <summary>
    /// Answers a user's poll: returns at once with its unconfirmed events, or waits, holding no
    /// thread, until one is delivered or <paramref name="timeout"/> passes. A zero timeout only looks.
    /// </summary>
    /// <param name="userId">The polling user's id.</param>
    /// <param name="timeout">How long to wait for an event; <see cref="TimeSpan.Zero"/> to only look, <see cref="Timeout.InfiniteTimeSpan"/> to wait until one comes.</param>
    /// <param name="filter">
    /// Selects the events the poll returns; the events it passes over are confirmed on the
    /// user's behalf, so that they do not pile up. <see cref="EventFilters"/> has ready-made ones.
    /// </param>
    /// <param name="cancellationToken">Ends the wait with <see cref="OperationCanceledException"/>, for example when the client goes away.</param>
    /// <returns>
    /// The events, or none when the timeout passed or the dispatcher was disposed meanwhile; or
    /// <see cref="PollResult.MustResynchronize"/> when the user fell more than the backlog behind.
    /// </returns>
    /// <remarks>A poll removes nothing: the events stay until the user confirms them with <see cref="ConfirmAsync"/>.</remarks>
    /// <exception cref="UnknownUserException">The user is not registered, or was unregistered while the poll waited.</exception>
    public async ValueTask<PollResult> PollAsync(
        string userId,
        TimeSpan timeout,
        Func<CometyEvent, bool>? filter = null,
        CancellationToken cancellationToken = default)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A poll's timeout cannot be negative.");
        }

        var user = GetUser(userId);
        var waiting = false;
        TimerEntry? deadline = null;
        var reusedDeadline = false;
        CancellationTokenRegistration registration = default;

        // Counted in ActivePolls from the first look until the answer is decided, inside the lock
        // each pass takes anyway: a poll that only looks takes the user's lock once.
        var counted = false;
        try
        {
            while (true)
            {
                Task wakeUp;
                PollResult? result = null;
                var released = false;
                lock (user)
                {
                    if (!counted)
                    {
                        user.ActivePolls++;
                        counted = true;
                    }

                    if (!user.Registered || user.OverflowedUpTo != 0)
                    {
                        user.ActivePolls--;
                        counted = false;
                        return user.Registered ? PollResult.Resynchronize : throw new UnknownUserException(userId);
                    }

                    // Read before the inbox: every event up to here is in it, if it is for this user.
                    var lastDelivered = Volatile.Read(ref _lastDelivered);
                    if (filter is not null && user.Inbox.Count > 0)
                    {
                        released = PassOver(user, filter);
                    }

                    if (user.Inbox.Count > 0)
                    {
                        var events = user.Inbox.ToArray();
                        result = new PollResult(events, Math.Max(lastDelivered, events[^1].Sequence));
                    }
                    else if (timeout == TimeSpan.Zero || deadline is { Fired: true } || _disposed)
                    {
                        result = new PollResult(null, Math.Max(lastDelivered, user.Confirmed));
                    }

                    if (result is null)
                    {
                        wakeUp = user.WaitForWakeUp();
                    }
                    else
                    {
                        wakeUp = Task.CompletedTask;
                        user.ActivePolls--;
                        counted = false;
                    }
                }

                if (released)
                {
                    await PurgeAsync();
                }

                if (result is not null)
                {
                    return result;
                }

                cancellationToken.ThrowIfCancellationRequested();
                if (!waiting)
                {
                    if (timeout != Timeout.InfiniteTimeSpan)
                    {
                        deadline = user.TakePollDeadline(_wakeUp, out reusedDeadline);
                        _timer.Reset(deadline, timeout);
                    }

                    registration = cancellationToken.UnsafeRegister(_wakeUp, user);

                    // Counted once its deadline is on the timer: a test that sees the poll waiting may move the clock.
                    waiting = true;
                    Interlocked.Increment(ref _waitingPolls);
                }

                await wakeUp;
            }
        }
        finally
        {
            if (counted)
            {
                // Cancelled, or a filter threw: the answer was never decided under the lock.
                lock (user)
                {
                    user.ActivePolls--;
                }
            }

            if (waiting)
            {
                Interlocked.Decrement(ref _waitingPolls);
            }

            if (reusedDeadline)
            {
                // The next poll of the user resets it, most often to a later time: it keeps its place.
                _timer.Suspend(deadline!);
                user.ReturnPollDeadline();
            }
            else if (deadline is not null)
            {
                _timer.Cancel(deadline);
            }

            registration.Dispose();
        }
    }

    /// <summary>
    /// Confirms that a user has handled its events up to <paramref name="sequence"/>: they leave
    /// its window and are never returned to it again. Confirming a number already confirmed does nothing.
    /// </summary>
    /// <param name="userId">The user's id.</param>
    /// <param name="sequence">The last sequence number handled; from 0 to <see cref="LastSequence"/>.</param>
    /// <param name="cancellationToken">Not used by the in-memory log; passed on where discarding events is asynchronous.</param>
    /// <returns>A task that completes when the confirmation is recorded.</returns>
    /// <remarks>A user that had to resynchronise is back in step once it confirms a number at or after the last event it lost, as a freshly rendered page does.</remarks>
    /// <exception cref="UnknownUserException">The user is not registered.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sequence"/> is negative or beyond the last sequence number issued.</exception>
    public ValueTask ConfirmAsync(string userId, long sequence, CancellationToken cancellationToken = default)
    {
        var user = GetUser(userId);
        var last = _log.LastSequence;
        if (sequence < 0 || sequence > last)
        {
            throw new ArgumentOutOfRangeException(nameof(sequence), sequence, $"A confirmation must be between 0 and the last sequence number issued, {last}.");
        }

        var released = false;
        lock (user)
        {
            if (!user.Registered)
            {
                throw new UnknownUserException(userId);
            }

            if (sequence > user.Confirmed)
            {
                user.Confirmed = sequence;
            }

            while (user.Inbox.Count > 0 && user.Inbox.First.Sequence <= sequence)
            {
                released |= Release(user.Inbox.RemoveFirst());
            }

            if (user.OverflowedUpTo != 0 && sequence >= user.OverflowedUpTo)
            {
                user.OverflowedUpTo = 0;
            }
        }

        return released ? PurgeAsync() : ValueTask.CompletedTask;
    }

    /// <summary>
    /// Confirms every event issued so far for a user, as a full page render does: the page shows
    /// the current state, so its first poll should start after it.
    /// </summary>
    /// <param name="userId">The user's id.</param>
    /// <param name="cancellationToken">Passed to <see cref="ConfirmAsync"/>.</param>
    /// <returns>The sequence number confirmed, which the page's first poll sends as its <c>confirm</c>.</returns>
    /// <exception cref="UnknownUserException">The user is not registered.</exception>
    public async ValueTask<long> ConfirmAllAsync(string userId, CancellationToken cancellationToken = default)
    {
        var sequence = _log.LastSequence;
        await ConfirmAsync(userId, sequence, cancellationToken);
        return sequence;
    }

    // Confirms, on the user's behalf, the events the filter rejects. The filter is user code:
    // it runs over every event before the inbox changes, so a throwing filter changes nothing.
    private static bool PassOver(UserState user, Func<CometyEvent, bool> filter)
    {
        var inbox = user.Inbox;
        var rejected = new bool[inbox.Count];
        var any = false;
        for (var i = 0; i < rejected.Length; i++)
        {
            rejected[i] = !filter(inbox[i]);
            any |= rejected[i];
        }

        if (!any)
        {
            return false;
        }

        var released = false;
        foreach (var e in inbox.RemoveMarked(rejected))
        {
            released |= Release(e);
        }

        return released;
    }
}
