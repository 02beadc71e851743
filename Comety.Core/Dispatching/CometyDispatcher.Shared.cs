using System.Collections.Concurrent;
using Comety.Internal;

namespace Comety;

// A dispatcher on a log that several servers share (ISharedEventLog). Each server keeps in memory a
// projection of the users' windows built from the log: registrations and subscriptions are records
// of the log, applied in sequence order with the events, so every server agrees at each sequence
// number on who receives an event. A server that registers a user, subscribes it or posts appends a
// record and applies it as it reads it back; the other servers read it when the log's doorbell rings
// (or its fallback timer fires). Lifecycle handlers run where the change happened; heartbeat timeouts
// are decided once for the cluster, by the leader, from the deadlines every server reports.
public sealed partial class CometyDispatcher
{
    // How often presence is reported and the leader looks for timeouts and trims: a fifth of a
    // heartbeat timeout, at most a second.
    private TimeSpan ClusterInterval => TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerSecond, _options.HeartbeatTimeout.Ticks / 5));

    // After a failure of the store, the loop tries again after this long.
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(500);

    private readonly ISharedEventLog? _shared;
    private readonly string _origin = Guid.NewGuid().ToString("N");
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<long, bool> _outcomes = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _pendingDeadlines = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _running = new();
    private readonly Lock _startLock = new();
    private Task? _run;
    private string? _epoch;
    private volatile bool _unavailable;
    private volatile bool _leading;

    // The lowest position a page may state after the store was reset (wiped, or restored from an
    // older backup): every page of the store before states less, and resynchronises. 0 when the
    // store never changed.
    private long _resetFloor;

    // _lastDelivered at each retention tick, newest last: on a shared log an inbox keeps what it
    // received for two retention windows (pages poll any server, so no server sees every page).
    private readonly long[] _deliveredAtTick = new long[(3 * RetentionTicksPerWindow) + 1];

    /// <summary>
    /// Gets whether the dispatcher's log is shared with other servers (<see cref="ISharedEventLog"/>):
    /// it must be started (<see cref="StartAsync"/>) and follows the log from then on.
    /// </summary>
    public bool IsShared => _shared is not null;

    /// <summary>
    /// Gets whether the log's store answers: <see langword="false"/> from a failure to reach a shared
    /// log's database until it answers again (<c>CometyController</c> answers 503 then, and posts throw
    /// <see cref="EventLogUnavailableException"/>). Always <see langword="true"/> for an in-memory log.
    /// </summary>
    public bool IsLogAvailable => !_unavailable;

    /// <summary>
    /// Gets whether the dispatcher serves: <see langword="true"/> for an in-memory log; on a shared log,
    /// once it has loaded the users' windows and while its store answers. A load balancer's health
    /// check reads it, so that a server that has just started gets polls only once it answers them
    /// from the log (until then they wait for the load).
    /// </summary>
    public bool IsReady => _loaded.Task.IsCompleted && !_unavailable;

    /// <summary>Gets whether this server is the cluster's leader now (it decides heartbeat timeouts and trims the shared log).</summary>
    public bool IsLeader => _leading;

    /// <summary>
    /// Starts following a shared log: builds the users' windows from it (the membership below its
    /// records, then every record), then reads each new record as it is committed, reports which
    /// users poll here, and takes part in electing the leader. Does nothing for an in-memory log.
    /// The <c>AddComety</c> hosting starts it with the application; while it has not loaded, polls wait.
    /// </summary>
    /// <param name="cancellationToken">Ends the wait for the first load (the dispatcher goes on loading).</param>
    /// <returns>A task that completes once the users' windows are loaded.</returns>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_shared is null)
        {
            return Task.CompletedTask;
        }

        ThrowIfDisposed();
        lock (_startLock)
        {
            _run ??= Task.Run(() => RunAsync(_running.Token), CancellationToken.None);
        }

        return _loaded.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Waits until this server's view of a shared log has applied every record up to
    /// <paramref name="position"/> (a page's position, which another server may have given it), or,
    /// for <see langword="null"/>, every record committed when the call was made. Returns at once
    /// for an in-memory log.
    /// </summary>
    /// <param name="position">The position to reach, or <see langword="null"/> for the store's latest.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>
    /// <see langword="false"/> when the position is one this store never issued (the page was served
    /// by a store that was wiped or restored since, or by another store): the page must resynchronise.
    /// </returns>
    /// <exception cref="EventLogUnavailableException">The shared log cannot be reached.</exception>
    public async ValueTask<bool> CatchUpAsync(long? position, CancellationToken cancellationToken = default)
    {
        if (_shared is null)
        {
            return position is not { } p || p <= _log.LastSequence;
        }

        await WhenLoadedAsync(cancellationToken);
        if (position is { } stated && (stated < Volatile.Read(ref _resetFloor) || stated < 0))
        {
            return false;
        }

        if (position is { } known && known <= Volatile.Read(ref _lastDelivered))
        {
            return true;
        }

        if (position is { } announced && announced <= _log.LastSequence)
        {
            // The log has announced it (its doorbell, or this server's own append): this server's
            // reader is delivering it, or this call reads it; the store need not be asked. After a
            // broadcast, every page answered by one server asks the next one from here.
            await DeliverUpToAsync(announced);
            return true;
        }

        var (last, epoch) = await ReadStoreAsync(cancellationToken);
        if (!string.Equals(epoch, _epoch, StringComparison.Ordinal))
        {
            // The run loop resets the view; this page's position belongs to the store before.
            return false;
        }

        var target = position is { } wanted ? Math.Min(wanted, last) : last;
        await DeliverUpToAsync(target);
        return position is not { } p2 || p2 <= last;
    }

    // A shared log's view must be loaded before it is used; a store that does not answer at start
    // is reported as unavailable after a while, not waited for without end.
    private async Task WhenLoadedAsync(CancellationToken cancellationToken)
    {
        if (_loaded.Task.IsCompleted)
        {
            return;
        }

        if (_shared is not null && _run is null)
        {
            throw new InvalidOperationException("A dispatcher on a shared log must be started first: call CometyDispatcher.StartAsync (AddCometyPostgreSql does it when the application starts).");
        }

        try
        {
            await _loaded.Task.WaitAsync(LoadWait, _timeProvider, cancellationToken);
        }
        catch (TimeoutException e)
        {
            throw new EventLogUnavailableException("The shared event log has not been loaded yet: its store does not answer.", e);
        }
    }

    private static readonly TimeSpan LoadWait = TimeSpan.FromSeconds(10);

    private async ValueTask<(long LastSequence, string Epoch)> ReadStoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _shared!.ReadLastSequenceAsync(cancellationToken);
        }
        catch (EventLogUnavailableException)
        {
            _unavailable = true;
            throw;
        }
    }

    // The loop that follows the log: load, then read what the doorbell announces, for the dispatcher's life.
    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var cluster = Task.Run(() => RunClusterDutiesAsync(cancellationToken), CancellationToken.None);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (!_loaded.Task.IsCompleted)
                {
                    await LoadAsync(resetPast: null, cancellationToken);
                    _unavailable = false;
                    _loaded.TrySetResult();
                    continue;
                }

                await _log.WaitForNewerAsync(Volatile.Read(ref _lastDelivered), cancellationToken);

                // Read before the store: a poll may deliver further meanwhile, never the store go back.
                var applied = Volatile.Read(ref _lastDelivered);
                var (last, epoch) = await _shared!.ReadLastSequenceAsync(cancellationToken);
                if (!string.Equals(epoch, _epoch, StringComparison.Ordinal) || last < applied)
                {
                    Log.SharedLogReset(_logger, _epoch, epoch, last, applied);
                    await LoadAsync(resetPast: Volatile.Read(ref _lastDelivered), cancellationToken);
                }
                else
                {
                    await DeliverUpToAsync(last);
                }

                if (_unavailable)
                {
                    Log.SharedLogAvailable(_logger);
                    _unavailable = false;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                if (!_unavailable)
                {
                    Log.SharedLogFailed(_logger, e);
                }

                _unavailable = true;
                try
                {
                    await Task.Delay(RetryDelay, _timeProvider, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        await cluster;
    }

    // Builds the users' windows from the store: the membership below its records, then every record.
    // With resetPast, the store is not the one this server followed (wiped, or restored from an older
    // backup): its numbers are moved past what pages saw, and every earlier page resynchronises.
    private async Task LoadAsync(long? resetPast, CancellationToken cancellationToken)
    {
        long floor = 0;
        if (resetPast is { } seen)
        {
            // One number is burnt: a page rendered after the reset states the floor, a page of the
            // store before it states at most what this server saw, below the floor.
            floor = await _shared!.AdvancePastAsync(seen + 1, cancellationToken);
        }

        var snapshot = await _shared!.LoadAsync(cancellationToken);
        await _deliveryGate.WaitAsync(cancellationToken);
        List<UserState> gone = [];
        try
        {
            foreach (var (_, user) in _users)
            {
                gone.Add(user);
            }

            _users.Clear();
            _channels.Clear();
            Volatile.Write(ref _userCount, 0);
            foreach (var entry in snapshot.Users)
            {
                var user = new UserState(entry.UserId, entry.RegisteredAt, _onHeartbeatDue)
                {
                    // Below the snapshot the log holds nothing: a page from before it resynchronises.
                    DroppedUpTo = Math.Max(snapshot.Sequence, floor),
                };
                foreach (var channel in entry.Channels)
                {
                    user.Channels.Add(channel);
                    _channels.GetOrAdd(channel, static _ => new ChannelState()).Subscribers.Add(user);
                }

                _users[entry.UserId] = user;
                _userCount++;
            }

            lock (_retainedLock)
            {
                while (_retained.Count > 0)
                {
                    _retained.RemoveFirst();
                }
                _lastRetained = snapshot.Sequence;
            }

            _epoch = snapshot.Epoch;
            Volatile.Write(ref _lastDelivered, snapshot.Sequence);
            if (resetPast is not null)
            {
                Volatile.Write(ref _resetFloor, floor);
            }
        }
        finally
        {
            _deliveryGate.Release();
        }

        foreach (var user in gone)
        {
            lock (user)
            {
                user.Registered = false;
                user.Reset = true;
            }

            user.WakeUp();
        }

        var (last, _) = await _shared.ReadLastSequenceAsync(cancellationToken);
        await DeliverUpToAsync(last);
        if (floor > Volatile.Read(ref _lastDelivered))
        {
            await _deliveryGate.WaitAsync(cancellationToken);
            try
            {
                if (floor > _lastDelivered)
                {
                    Volatile.Write(ref _lastDelivered, floor);
                }
            }
            finally
            {
                _deliveryGate.Release();
            }
        }

        Log.SharedLogLoaded(_logger, snapshot.Epoch, snapshot.Users.Count, snapshot.Sequence, Volatile.Read(ref _lastDelivered));
    }

    // Reports presence, and, as the leader, decides timeouts and trims, every ClusterInterval.
    private async Task RunClusterDutiesAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(ClusterInterval, _timeProvider, cancellationToken);
                if (!_loaded.Task.IsCompleted)
                {
                    continue;
                }

                await ReportPresenceAsync(cancellationToken);
                _leading = await _shared!.TryLeadAsync(cancellationToken);
                if (_leading)
                {
                    await DecideTimeoutsAsync(cancellationToken);
                    await TrimSharedLogAsync(cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                _leading = false;
                Log.ClusterDutiesFailed(_logger, e);
            }
        }
    }

    // Every user with a poll being answered here is alive until two heartbeat timeouts from now,
    // reported again once less than one is left (not every round: with thousands of waiting polls
    // that would be thousands of rows a second); the others until the deadline their last poll's
    // end set, when it is later than what was reported.
    private async ValueTask ReportPresenceAsync(CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        var alive = now + (2 * _options.HeartbeatTimeout);
        var refreshBefore = (now + _options.HeartbeatTimeout).UtcTicks;
        var report = new List<(string, DateTimeOffset)>();
        foreach (var (id, _) in _pendingDeadlines)
        {
            if (_pendingDeadlines.TryRemove(id, out var deadline))
            {
                report.Add((id, deadline));
                if (_users.TryGetValue(id, out var user))
                {
                    NoteReported(user, deadline);
                }
            }
        }

        foreach (var (id, user) in _users)
        {
            if (user.ActivePolls > 0 && Volatile.Read(ref user.ReportedUntilTicks) < refreshBefore)
            {
                report.Add((id, alive));
                NoteReported(user, alive);
            }
        }

        if (report.Count > 0)
        {
            await _shared!.ReportPresenceAsync(report, cancellationToken);
        }
    }

    private async ValueTask DecideTimeoutsAsync(CancellationToken cancellationToken)
    {
        var expired = await _shared!.TakeExpiredUsersAsync(_timeProvider.GetUtcNow(), 2 * _options.HeartbeatTimeout, cancellationToken);
        foreach (var id in expired)
        {
            if (_users.TryGetValue(id, out var user) && !user.Leaving && user.ActivePolls == 0)
            {
                int version;
                lock (user)
                {
                    version = user.HeartbeatVersion;
                }

                _ = Task.Run(() => OnHeartbeatTimedOutAsync(user, version), CancellationToken.None);
            }
        }
    }

    // What no page may still ask for: older than every server's inboxes keep (two retention windows),
    // plus one window; and never more than MaxRetainedEvents records.
    private async ValueTask TrimSharedLogAsync(CancellationToken cancellationToken)
    {
        long keepFrom;
        lock (_deliveredAtTick)
        {
            keepFrom = _deliveredAtTick[0] + 1;
        }

        keepFrom = Math.Max(keepFrom, Volatile.Read(ref _lastDelivered) - _options.MaxRetainedEvents + 1);
        if (keepFrom > 1)
        {
            await _log.TrimAsync(keepFrom, cancellationToken);
        }
    }

    // On a retention tick: note where delivery stood, for the shared floor.
    private void NoteDeliveredAtTick()
    {
        lock (_deliveredAtTick)
        {
            Array.Copy(_deliveredAtTick, 1, _deliveredAtTick, 0, _deliveredAtTick.Length - 1);
            _deliveredAtTick[^1] = Volatile.Read(ref _lastDelivered);
        }
    }

    // The highest sequence number every inbox may let go of on a shared log: what was delivered two
    // retention windows ago.
    private long SharedFloor()
    {
        lock (_deliveredAtTick)
        {
            return _deliveredAtTick[_deliveredAtTick.Length - 1 - (2 * RetentionTicksPerWindow)];
        }
    }

    // Appends a membership record and applies it here; returns whether it changed the membership
    // (false: another server's record did the same first).
    private async ValueTask<bool> AppendMembershipAsync(LogRecordKind kind, string userId, string? channel, CancellationToken cancellationToken, IReadOnlyCollection<string>? channels = null)
    {
        await WhenLoadedAsync(cancellationToken);
        var record = CometyEvent.Membership(kind, userId, channel, _origin, channels);
        var appended = await AppendAsync(record, cancellationToken);
        await DeliverUpToAsync(appended.Sequence);
        return _outcomes.TryRemove(appended.Sequence, out var changed) && changed;
    }

    private async ValueTask<CometyEvent> AppendAsync(CometyEvent record, CancellationToken cancellationToken)
    {
        try
        {
            var appended = await _log.AppendAsync(record, cancellationToken);
            if (_shared is not null && _unavailable)
            {
                _unavailable = false;
            }

            return appended;
        }
        catch (EventLogUnavailableException)
        {
            _unavailable = true;
            throw;
        }
    }

    // Applies a membership record read from a shared log. Called under the delivery gate, in order.
    private void Apply(CometyEvent record)
    {
        var id = record.MembershipUserId;
        var changed = false;
        if (id is not null)
        {
            switch (record.Kind)
            {
                case LogRecordKind.UserRegistered:
                    if (!_users.ContainsKey(id))
                    {
                        _users[id] = new UserState(id, record.Sequence, _onHeartbeatDue);
                        Interlocked.Increment(ref _userCount);
                        changed = true;
                    }

                    break;
                case LogRecordKind.UserUnregistered:
                    if (_users.TryGetValue(id, out var leaving))
                    {
                        changed = Remove(leaving);
                    }

                    break;
                case LogRecordKind.Subscribed when record.Channel is { } channel:
                    if (_users.TryGetValue(id, out var subscriber))
                    {
                        lock (subscriber)
                        {
                            if (subscriber.Registered && subscriber.Channels.Add(channel))
                            {
                                AddToChannel(subscriber, channel);
                                changed = true;
                            }
                        }
                    }

                    break;
                case LogRecordKind.Unsubscribed when record.Channel is { } channel:
                    if (_users.TryGetValue(id, out var member))
                    {
                        lock (member)
                        {
                            if (member.Channels.Remove(channel))
                            {
                                RemoveFromChannel(member, channel);
                                changed = true;
                            }
                        }
                    }

                    break;
            }
        }

        if (string.Equals(record.MembershipOrigin, _origin, StringComparison.Ordinal))
        {
            _outcomes[record.Sequence] = changed;
        }
    }

    // Takes a user out of this server's view: the last step of leaving, everywhere the record is read.
    private bool Remove(UserState user)
    {
        TaskCompletionSource? signal;
        lock (user)
        {
            if (!user.Registered)
            {
                return false;
            }

            foreach (var channel in user.Channels)
            {
                RemoveFromChannel(user, channel);
            }

            user.Channels.Clear();
            user.Registered = false;
            ReleaseInbox(user);
            signal = user.TakeSignal();
        }

        if (_users.TryRemove(KeyValuePair.Create(user.Id, user)))
        {
            Interlocked.Decrement(ref _userCount);
        }

        signal?.TrySetResult();
        return true;
    }

    private static void NoteReported(UserState user, DateTimeOffset deadline)
    {
        var ticks = deadline.UtcTicks;
        var seen = Volatile.Read(ref user.ReportedUntilTicks);
        while (ticks > seen)
        {
            var before = Interlocked.CompareExchange(ref user.ReportedUntilTicks, ticks, seen);
            if (before == seen)
            {
                return;
            }

            seen = before;
        }
    }

    // Notes a user's heartbeat deadline for the next presence report, unless an as late one was reported.
    private void NoteDeadline(UserState user, TimeSpan timeout)
    {
        var deadline = _timeProvider.GetUtcNow() + timeout;
        if (deadline.UtcTicks <= Volatile.Read(ref user.ReportedUntilTicks))
        {
            return;
        }

        _pendingDeadlines.AddOrUpdate(user.Id, deadline, (_, before) => before > deadline ? before : deadline);
    }

    private void StopShared()
    {
        _running.Cancel();
    }
}
