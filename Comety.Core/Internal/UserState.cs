namespace Comety.Internal;

/// <summary>
/// A registered user's inbox. The inbox holds, in sequence order, the events routed to the user
/// that one of its pages may still ask for; events for other channels and other users never
/// enter it, so a user never skips them one by one. Each page states its own position with
/// every poll; the inbox forgets an event once every page that polled recently has handled it
/// (<see cref="PagePositions"/>), or when it holds more than the backlog. Guarded by locking the instance.
/// </summary>
internal sealed class UserState
{
    private TaskCompletionSource? _signal;
    private volatile bool _leaving;
    private TimerEntry? _pollDeadline;
    private int _pollDeadlineTaken;
    private PagePositions _positions;

    public UserState(string id, long registeredAt, Action<object?> onHeartbeatDue)
    {
        Id = id;
        HashCode = StringComparer.Ordinal.GetHashCode(id);
        RegisteredAt = registeredAt;
        Heartbeat = new TimerEntry(onHeartbeatDue, this);
    }

    public string Id { get; }

    /// <summary>The id's hash, computed once, for <see cref="UserStateComparer"/>.</summary>
    public int HashCode { get; }

    public EventRing Inbox { get; } = new();

    public HashSet<string> Channels { get; } = new(StringComparer.Ordinal);

    /// <summary>The user's network delay measurements, one estimator per connection key (a browser's session).</summary>
    public NetworkDelayEstimators NetworkDelays { get; } = new();

    /// <summary>The positions the user's pages stated lately; guarded by the user's lock.</summary>
    public ref PagePositions Positions => ref _positions;

    public TimerEntry Heartbeat { get; }

    /// <summary>The last event delivered before the user was registered: its pages never see that one or earlier ones.</summary>
    public long RegisteredAt { get; }

    /// <summary>
    /// The highest sequence number of an event the inbox held and let go, or 0: a page whose
    /// position is below it has not seen that event and must resynchronise.
    /// </summary>
    public long DroppedUpTo { get; set; }

    /// <summary>Set, with <see cref="Registered"/> cleared, when a shared log's store was wiped or restored: the user's pages resynchronise.</summary>
    public bool Reset { get; set; }

    /// <summary>Cleared when the user is removed; no event is routed to it after that.</summary>
    public bool Registered { get; set; } = true;

    /// <summary>
    /// Set, under the lock, when the user starts leaving, so that it leaves once. Volatile, so that
    /// <see cref="CometyDispatcher.IsRegistered"/> reads it without the lock: its answer is a snapshot either way.
    /// </summary>
    public bool Leaving
    {
        get => _leaving;
        set => _leaving = value;
    }

    /// <summary>How many polls of this user are being answered; its heartbeat restarts only when the last one ends.</summary>
    public int ActivePolls => _positions.ActiveCount;

    /// <summary>
    /// On a shared log: the latest deadline this server has reported for the user, in ticks of
    /// the dispatcher's clock (UTC); a deadline before it need not be reported again.
    /// </summary>
    public long ReportedUntilTicks;

    /// <summary>Changes whenever the heartbeat is stopped or restarted, so a timeout can tell it is stale.</summary>
    public int HeartbeatVersion { get; set; }

    /// <summary>
    /// Takes the user's poll deadline, one timer entry reused from poll to poll so that a poll
    /// allocates no entry and, most often, pushes nothing on the timer's heap; or, while another
    /// poll of the user holds it, a fresh entry (<paramref name="reused"/> is then false).
    /// </summary>
    public TimerEntry TakePollDeadline(Action<object?> onDue, out bool reused)
    {
        reused = Interlocked.CompareExchange(ref _pollDeadlineTaken, 1, 0) == 0;
        return reused ? _pollDeadline ??= new TimerEntry(onDue, this) : new TimerEntry(onDue, this);
    }

    /// <summary>Gives the reused poll deadline back, once it is suspended or cancelled.</summary>
    public void ReturnPollDeadline() => Volatile.Write(ref _pollDeadlineTaken, 0);

    /// <summary>Returns the task that completes on the next wake-up. Call under the lock.</summary>
    public Task WaitForWakeUp() =>
        (_signal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Wakes every poll waiting for this user; they look at the inbox again. Call under the lock.</summary>
    public TaskCompletionSource? TakeSignal()
    {
        var signal = _signal;
        _signal = null;
        return signal;
    }

    /// <summary>Wakes every waiting poll. Takes the lock.</summary>
    public void WakeUp()
    {
        TaskCompletionSource? signal;
        lock (this)
        {
            signal = TakeSignal();
        }

        signal?.TrySetResult();
    }
}
