using Comety.Internal;

namespace Comety;

public sealed partial class CometyDispatcher
{
    /// <summary>
    /// Answers a page's poll: returns at once with the user's events after the page's
    /// <paramref name="position"/>, or waits, holding no thread, until one is delivered or
    /// <paramref name="timeout"/> passes. A zero timeout only looks.
    /// </summary>
    /// <param name="userId">The polling user's id.</param>
    /// <param name="position">
    /// The page's position: the last sequence number it has handled (the <c>confirm</c> of the
    /// wire protocol; the <see cref="PollResult.LastId"/> of its previous answer, or
    /// <see cref="LastSequence"/> taken where its data was read). What other pages of the same
    /// user handled never changes what this page gets. <see langword="null"/> for a page that has
    /// none: it gets every event the user's inbox still holds.
    /// </param>
    /// <param name="timeout">How long to wait for an event; <see cref="TimeSpan.Zero"/> to only look, <see cref="Timeout.InfiniteTimeSpan"/> to wait until one comes.</param>
    /// <param name="filter">Selects the events the poll returns; the others are passed over (the answer's <see cref="PollResult.LastId"/> still accounts for them).</param>
    /// <param name="cancellationToken">Ends the wait with <see cref="OperationCanceledException"/>, for example when the client goes away.</param>
    /// <returns>
    /// The events, or none when the timeout passed or the dispatcher was disposed meanwhile; or
    /// <see cref="PollResult.MustResynchronize"/> when the page's position is older than what the
    /// user's inbox still holds for it; or <see cref="PollResult.TooManyPolls"/> when
    /// <see cref="DispatcherOptions.MaxPollsPerUser"/> polls of the user are being answered already.
    /// </returns>
    /// <remarks>
    /// A poll removes nothing. The user's inbox keeps an event until every page of the user that
    /// polled within the last <see cref="DispatcherOptions.HeartbeatTimeout"/> (up to twice that)
    /// has stated a position at or after it, and keeps at most <see cref="DispatcherOptions.MaxBacklog"/>
    /// events; a page further behind than that must resynchronise.
    /// </remarks>
    /// <exception cref="UnknownUserException">The user is not registered, or was unregistered while the poll waited.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="position"/> is negative or beyond <see cref="LastSequence"/>, or <paramref name="timeout"/> is negative.</exception>
    public ValueTask<PollResult> PollAsync(
        string userId,
        long? position,
        TimeSpan timeout,
        Func<CometyEvent, bool>? filter = null,
        CancellationToken cancellationToken = default) =>
        PollCoreAsync(userId, position, unconfirmed: false, timeout, filter, cancellationToken);

    /// <summary>
    /// Answers the next read of a stream that writes a page's events to one response as they come:
    /// as <see cref="PollAsync(string, long?, TimeSpan, Func{CometyEvent, bool}?, CancellationToken)"/>
    /// from <paramref name="position"/>, the last sequence number the stream wrote (its answer's
    /// <see cref="PollResult.LastId"/> before). The page may not have received what was written
    /// (a cut connection loses what was in flight), so, unlike a poll's, this position does not tell
    /// the user's inbox that the page handled it: the inbox keeps what the stream writes for the
    /// retention windows (one to two <see cref="DispatcherOptions.HeartbeatTimeout"/>s), and a page
    /// whose stream was cut resumes from the last event it received with nothing lost. Open the
    /// stream with <c>PollAsync</c> from the position the page stated.
    /// </summary>
    /// <param name="userId">The streaming user's id.</param>
    /// <param name="position">The last sequence number the stream wrote (or accounted for).</param>
    /// <param name="timeout">How long to wait for an event; <see cref="TimeSpan.Zero"/> to only look.</param>
    /// <param name="filter">Selects the events returned, as for a poll.</param>
    /// <param name="cancellationToken">Ends the wait with <see cref="OperationCanceledException"/>.</param>
    /// <returns>What <c>PollAsync</c> returns.</returns>
    /// <exception cref="UnknownUserException">The user is not registered, or was unregistered while the read waited.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="position"/> is negative or beyond <see cref="LastSequence"/>, or <paramref name="timeout"/> is negative.</exception>
    public ValueTask<PollResult> ContinueStreamAsync(
        string userId,
        long position,
        TimeSpan timeout,
        Func<CometyEvent, bool>? filter = null,
        CancellationToken cancellationToken = default) =>
        PollCoreAsync(userId, position, unconfirmed: true, timeout, filter, cancellationToken);

    private async ValueTask<PollResult> PollCoreAsync(
        string userId,
        long? position,
        bool unconfirmed,
        TimeSpan timeout,
        Func<CometyEvent, bool>? filter,
        CancellationToken cancellationToken)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A poll's timeout cannot be negative.");
        }

        if (_shared is not null && !await CatchUpAsync(position, cancellationToken))
        {
            // A position this store never issued, or one from before it was wiped or restored.
            return PollResult.Resynchronize;
        }

        var user = GetUser(userId);
        if (position is { } stated)
        {
            var last = LastSequence;
            if (stated < 0 || stated > last)
            {
                throw new ArgumentOutOfRangeException(nameof(position), stated, $"A position must be between 0 and the last sequence number issued, {last}.");
            }
        }

        var waiting = false;
        TimerEntry? deadline = null;
        var reusedDeadline = false;
        CancellationTokenRegistration registration = default;

        // The position this poll counts as in the user's page positions, from the first look until
        // the answer is decided: the inbox keeps what an active poll may still return.
        long? begun = null;
        try
        {
            while (true)
            {
                Task wakeUp;
                PollResult? result = null;
                var released = false;
                lock (user)
                {
                    if (!user.Registered)
                    {
                        if (user.Reset)
                        {
                            // The shared store was wiped or restored: every page starts again.
                            return PollResult.Resynchronize;
                        }

                        throw new UnknownUserException(userId);
                    }

                    // A page without a position gets whatever the inbox still holds.
                    var after = position ?? Math.Max(user.RegisteredAt, user.DroppedUpTo);
                    if (begun is null)
                    {
                        if (user.Positions.ActiveCount >= _options.MaxPollsPerUser)
                        {
                            Log.PollRefused(_logger, userId, _options.MaxPollsPerUser);
                            return PollResult.Refused;
                        }

                        var tick = Volatile.Read(ref _retentionTick);
                        user.Positions.BeginPoll(after, tick / RetentionTicksPerWindow, unconfirmed);
                        begun = after;
                        released = _shared is null ? ReleaseHandled(user, RenderedFloor) : ReleaseUpTo(user, SharedFloor());
                    }

                    // Read before the inbox: every event up to here is in it, if it is for this user.
                    var lastDelivered = Volatile.Read(ref _lastDelivered);
                    if (position is not null && IsBehind(user, after))
                    {
                        result = PollResult.Resynchronize;
                    }
                    else if (Collect(user, after, filter) is { } events)
                    {
                        result = new PollResult(events, Math.Max(lastDelivered, events[^1].Sequence));
                    }
                    else if (timeout == TimeSpan.Zero || deadline is { Fired: true } || _stopping || _disposed)
                    {
                        result = new PollResult(null, Math.Max(lastDelivered, after));
                    }

                    if (result is null)
                    {
                        wakeUp = user.WaitForWakeUp();
                    }
                    else
                    {
                        wakeUp = Task.CompletedTask;
                        user.Positions.EndPoll(begun.Value, result.MustResynchronize ? begun.Value : result.LastId);
                        begun = null;
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
            if (begun is { } active)
            {
                // Cancelled, unregistered, or a filter threw: the answer was never decided under the
                // lock. The page asks again from the same position.
                lock (user)
                {
                    user.Positions.EndPoll(active, active);
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

    // Whether a page at `position` has lost events: the inbox let go of one after it, or the
    // user was registered again (or first) after the page took its position. Call under the user's lock.
    private static bool IsBehind(UserState user, long position) =>
        position < user.DroppedUpTo || (position > 0 && position < user.RegisteredAt);

    // The inbox's events after `position` that the filter keeps, or null. The filter is user code:
    // it only reads. Call under the user's lock.
    private static CometyEvent[]? Collect(UserState user, long position, Func<CometyEvent, bool>? filter)
    {
        var inbox = user.Inbox;
        var start = inbox.IndexOfFirstFrom(position + 1);
        var count = inbox.Count - start;
        if (count == 0)
        {
            return null;
        }

        if (filter is null)
        {
            var events = new CometyEvent[count];
            for (var i = 0; i < count; i++)
            {
                events[i] = inbox[start + i];
            }

            return events;
        }

        List<CometyEvent>? kept = null;
        for (var i = start; i < inbox.Count; i++)
        {
            if (filter(inbox[i]))
            {
                (kept ??= []).Add(inbox[i]);
            }
        }

        return kept?.ToArray();
    }

    // Lets go of the events every page that polled lately has handled, and that no page rendered
    // lately may still ask for; returns whether one of them was the last recipient's. Call under
    // the user's lock.
    private static bool ReleaseHandled(UserState user, long renderedFloor)
    {
        var inbox = user.Inbox;
        if (inbox.Count == 0)
        {
            return false;
        }

        return ReleaseUpTo(user, Math.Min(user.Positions.Floor(), renderedFloor));
    }

    // Lets go of the inbox's events up to `floor`; returns whether one was the last recipient's. Call under the user's lock.
    private static bool ReleaseUpTo(UserState user, long floor)
    {
        var inbox = user.Inbox;
        var released = false;
        while (inbox.Count > 0 && inbox.First.Sequence <= floor)
        {
            released |= Drop(user, inbox.RemoveFirst());
        }

        return released;
    }

    // Lets go of one event of a user's inbox; returns whether it was the last recipient's. Call under the user's lock.
    private static bool Drop(UserState user, CometyEvent e)
    {
        user.DroppedUpTo = Math.Max(user.DroppedUpTo, e.Sequence);
        return Release(e);
    }
}
