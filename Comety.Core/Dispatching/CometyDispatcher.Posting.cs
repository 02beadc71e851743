using System.Buffers;
using Comety.Internal;

namespace Comety;

public sealed partial class CometyDispatcher
{
    /// <summary>Posts an event to every registered user.</summary>
    /// <param name="sender">What originated the event.</param>
    /// <param name="args">The event's named arguments; <c>event</c> names its type.</param>
    /// <param name="cancellationToken">Cancels the post before the event is appended.</param>
    /// <returns>The event's sequence number, or <see langword="null"/> when no user is registered and the event was dropped (never on a shared log: users another server registered may not be known here yet).</returns>
    public ValueTask<long?> BroadcastAsync(object? sender, IReadOnlyDictionary<string, object?> args, CancellationToken cancellationToken = default) =>
        PostAsync(new CometyEvent(sender, args), cancellationToken);

    /// <summary>Posts an event to a channel's subscribers; the event's <c>channel</c> argument names the channel.</summary>
    /// <param name="channel">The channel.</param>
    /// <param name="sender">What originated the event.</param>
    /// <param name="args">The event's named arguments; <c>event</c> names its type.</param>
    /// <param name="cancellationToken">Cancels the post before the event is appended.</param>
    /// <returns>The event's sequence number, or <see langword="null"/> when no user is registered and the event was dropped (never on a shared log: users another server registered may not be known here yet).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="channel"/> is <see langword="null"/>: a post to no channel would reach every user.</exception>
    /// <exception cref="ArgumentException"><paramref name="channel"/> is not a valid channel name, or <paramref name="args"/> has no <c>event</c> string.</exception>
    public ValueTask<long?> PostToChannelAsync(string channel, object? sender, IReadOnlyDictionary<string, object?> args, CancellationToken cancellationToken = default)
    {
        // Checked here, not left to the event: an event with a null channel is a broadcast.
        ChannelName.ThrowIfInvalid(channel, nameof(channel));
        return PostAsync(new CometyEvent(sender, args, channel), cancellationToken);
    }

    /// <summary>Posts an event to one user.</summary>
    /// <param name="userId">The user the event is for.</param>
    /// <param name="sender">What originated the event.</param>
    /// <param name="args">The event's named arguments; <c>event</c> names its type.</param>
    /// <param name="cancellationToken">Cancels the post before the event is appended.</param>
    /// <returns>The event's sequence number, or <see langword="null"/> when no user is registered and the event was dropped (never on a shared log: users another server registered may not be known here yet).</returns>
    public ValueTask<long?> PostToUserAsync(string userId, object? sender, IReadOnlyDictionary<string, object?> args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userId);
        return PostAsync(new CometyEvent(sender, args, targetUserIds: [userId]), cancellationToken);
    }

    /// <summary>
    /// Posts an event: appends it to the log and delivers it to the users it concerns, waking
    /// their waiting polls. An event with target users goes to those of them that are registered
    /// (and, if it has a channel, subscribed to it); a channel event to the channel's
    /// subscribers; any other event to every registered user.
    /// </summary>
    /// <param name="newEvent">An event that has not been posted yet.</param>
    /// <param name="cancellationToken">Cancels the post before the event is appended.</param>
    /// <returns>The event's sequence number, or <see langword="null"/> when no user is registered and the event was dropped (never on a shared log: users another server registered may not be known here yet).</returns>
    /// <exception cref="InvalidOperationException">The event was posted before.</exception>
    public async ValueTask<long?> PostAsync(CometyEvent newEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(newEvent);
        ThrowIfDisposed();
        if (newEvent.Sequence != 0)
        {
            throw new InvalidOperationException($"The event was already posted as #{newEvent.Sequence}.");
        }

        // On a shared log, this server's view may not have the users another registered a moment
        // ago: the event goes in the log, where every server routes it.
        if (_shared is null && Volatile.Read(ref _userCount) == 0)
        {
            Log.EventDropped(_logger, newEvent.Type);
            return null;
        }

        var appended = await AppendAsync(newEvent, cancellationToken);
        Interlocked.Increment(ref _eventsPosted);
        if (_shared is null)
        {
            await DeliverUpToAsync(appended.Sequence);
        }
        else
        {
            try
            {
                await DeliverUpToAsync(appended.Sequence);
            }
            catch (Exception e) when (!_disposed)
            {
                // The event is in the shared log: the loop that follows it delivers it once the
                // store answers again. The post succeeded.
                Log.SharedLogFailed(_logger, e);
            }
        }

        return appended.Sequence;
    }

    // Moves events from the log into inboxes, in log order, until `sequence` is delivered.
    // Not cancellable: an appended event must reach its recipients.
    private async ValueTask DeliverUpToAsync(long sequence)
    {
        if (Volatile.Read(ref _lastDelivered) >= sequence)
        {
            return;
        }

        await _deliveryGate.WaitAsync(CancellationToken.None);
        try
        {
            while (_lastDelivered < sequence)
            {
                var batch = await _log.ReadAsync(_lastDelivered + 1, DeliveryBatchSize);
                if (batch.Count == 0)
                {
                    break;
                }

                foreach (var e in batch)
                {
                    Route(e);
                    Volatile.Write(ref _lastDelivered, e.Sequence);
                }
            }
        }
        finally
        {
            _deliveryGate.Release();
        }

        if (RetainedEventCount > _options.MaxRetainedEvents)
        {
            TrimRetained();
        }

        // Events for nobody, and events no inbox holds any more, go at once.
        await PurgeAsync();
    }

    // Delivers one event to its recipients and retains it until they confirm it.
    private void Route(CometyEvent e)
    {
        if (e.Kind != LogRecordKind.Event)
        {
            // A shared log's membership record: no user receives it, every server applies it.
            Apply(e);
            return;
        }

        // One count held by delivery itself, so the event is not purgeable half delivered.
        e.PendingRecipients = 1;
        if (e.TargetUserIds is { } targets)
        {
            foreach (var target in targets)
            {
                if (_users.TryGetValue(target, out var user))
                {
                    DeliverTo(user, e);
                }
            }
        }
        else if (e.Channel is { } channel)
        {
            DeliverToChannel(channel, e);
        }
        else
        {
            foreach (var (_, user) in _users)
            {
                DeliverTo(user, e);
            }
        }

        Interlocked.Decrement(ref e.PendingRecipients);
        lock (_retainedLock)
        {
            _retained.Add(e);
            _lastRetained = e.Sequence;
        }
    }

    private void DeliverToChannel(string channel, CometyEvent e)
    {
        if (!_channels.TryGetValue(channel, out var state))
        {
            return;
        }

        // Copy the subscribers so that no user lock is taken under the channel's lock.
        UserState[] subscribers;
        int count;
        lock (state)
        {
            count = state.Subscribers.Count;
            subscribers = ArrayPool<UserState>.Shared.Rent(count);
            state.Subscribers.CopyTo(subscribers);
        }

        try
        {
            for (var i = 0; i < count; i++)
            {
                DeliverTo(subscribers[i], e);
            }
        }
        finally
        {
            ArrayPool<UserState>.Shared.Return(subscribers, clearArray: true);
        }
    }

    // Adds the event to one inbox and wakes that user's polls. An inbox full to the backlog lets
    // go of its oldest event: pages that have not handled it must resynchronise, the others go on.
    private void DeliverTo(UserState user, CometyEvent e)
    {
        TaskCompletionSource? signal;
        lock (user)
        {
            if (!user.Registered || e.Sequence <= user.RegisteredAt)
            {
                return;
            }

            if (e.TargetUserIds is not null && e.Channel is not null && !user.Channels.Contains(e.Channel))
            {
                return;
            }

            if (user.Inbox.Count >= _options.MaxBacklog)
            {
                var oldest = user.Inbox.RemoveFirst();
                Log.BacklogTrimmed(_logger, user.Id, _options.MaxBacklog, oldest.Sequence);
                Drop(user, oldest);
            }

            Interlocked.Increment(ref e.PendingRecipients);
            user.Inbox.Add(e);
            Interlocked.Increment(ref _eventsDelivered);
            signal = user.TakeSignal();
        }

        signal?.TrySetResult();
    }

    // Lets go of a user's whole inbox; returns whether one of its events was the last recipient's. Call under the user's lock.
    private static bool ReleaseInbox(UserState user)
    {
        var released = false;
        while (user.Inbox.Count > 0)
        {
            released |= Drop(user, user.Inbox.RemoveFirst());
        }

        return released;
    }

    // One recipient is done with the event; returns whether it was the last.
    private static bool Release(CometyEvent e) => Interlocked.Decrement(ref e.PendingRecipients) == 0;

    // Too many events are retained: some inboxes hold old ones for pages that may come back.
    // Every inbox lets go of the events before a cutoff, a tenth of the limit further than needed
    // so that a steady stream over the limit does not visit every user on every event; pages that
    // had not handled them must resynchronise.
    private void TrimRetained()
    {
        long cutoff;
        lock (_retainedLock)
        {
            if (_retained.Count <= _options.MaxRetainedEvents)
            {
                return;
            }

            var keep = _options.MaxRetainedEvents - (_options.MaxRetainedEvents / 10);
            cutoff = _retained[_retained.Count - keep].Sequence;
        }

        Log.RetainedLimitReached(_logger, _options.MaxRetainedEvents, cutoff);
        foreach (var (_, user) in _users)
        {
            lock (user)
            {
                while (user.Inbox.Count > 0 && user.Inbox.First.Sequence < cutoff)
                {
                    Drop(user, user.Inbox.RemoveFirst());
                }
            }
        }
    }

    // Discards the delivered events at the head of the log that every recipient has confirmed.
    private ValueTask PurgeAsync()
    {
        long keepFrom;
        lock (_retainedLock)
        {
            if (_retained.Count == 0 || Volatile.Read(ref _retained.First.PendingRecipients) != 0)
            {
                return ValueTask.CompletedTask;
            }

            while (_retained.Count > 0 && Volatile.Read(ref _retained.First.PendingRecipients) == 0)
            {
                _retained.RemoveFirst();
            }

            keepFrom = _retained.Count > 0 ? _retained.First.Sequence : _lastRetained + 1;
        }

        // A shared log is trimmed by the cluster's leader, by age: other servers' pages may still ask.
        return _shared is null ? _log.TrimAsync(keepFrom) : ValueTask.CompletedTask;
    }
}
