using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Comety.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Comety;

/// <summary>
/// Routes events from the server to the users waiting for them: registers users, appends
/// events to one ordered log, delivers each to the users it concerns (everyone, a channel's
/// subscribers, or named users), and answers their polls without holding a thread.
/// </summary>
/// <remarks>
/// Every member is thread-safe. Each page of a user polls from its own position, the last
/// sequence number it handled; a poll removes nothing, so a lost response loses nothing, and
/// what one page of a user handled never takes an event from another. Events no page may still
/// ask for are discarded.
/// </remarks>
public sealed partial class CometyDispatcher : IDisposable
{
    /// <summary>
    /// The sender of the events the dispatcher posts itself, such as <c>register-user</c>
    /// (PROTOCOL.md names it): compare an event's <see cref="CometyEvent.Sender"/> with it to tell them from the application's.
    /// </summary>
    public const string SenderName = "Comety.Dispatcher";

    private const int DeliveryBatchSize = 256;

    private readonly DispatcherOptions _options;
    private readonly IEventLog _log;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly MultiTimer _timer;
    private readonly LifecycleHandlers _handlers = new();
    private readonly ConcurrentDictionary<string, UserState> _users = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ChannelState> _channels = new(StringComparer.Ordinal);

    // Delivery is sequential, in log order: whoever holds the gate moves events from the log
    // into inboxes. Registration takes it too, so a new user's window starts exactly where
    // delivery stands.
    private readonly SemaphoreSlim _deliveryGate = new(1, 1);
    private long _lastDelivered;

    // Delivered events in sequence order, until every recipient has confirmed them.
    private readonly Lock _retainedLock = new();
    private readonly EventRing _retained = new(64);
    private long _lastRetained;

    // Ticks RetentionTicksPerWindow times a heartbeat timeout on the clock: a page that polled in
    // this retention window or the one before keeps its events in the inbox. One timer for every
    // user, so that a poll reads no clock.
    private const int RetentionTicksPerWindow = 3;
    private readonly ITimer _retentionClock;
    private int _retentionTick;

    // The lowest position a page was rendered at in this tick and the one before: until its first
    // poll, no inbox lets go of what came after it. Whose page it was is not known, so every user's
    // inbox keeps it; long.MaxValue when no page was rendered.
    private long _renderedThisTick = long.MaxValue;
    private long _renderedLastTick = long.MaxValue;
    private readonly Action<object?> _onHeartbeatDue;
    private readonly Action<object?> _wakeUp = static state => ((UserState)state!).WakeUp();
    private readonly DispatcherMetrics _metrics;
    private int _userCount;
    private int _waitingPolls;
    private long _eventsPosted;
    private long _eventsDelivered;
    private volatile bool _disposed;
    private volatile bool _stopping;

    /// <summary>Creates a dispatcher.</summary>
    /// <param name="options">The settings; the defaults of <see cref="DispatcherOptions"/> when <see langword="null"/>.</param>
    /// <param name="log">The event log; a new <see cref="InMemoryEventLog"/> when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock for heartbeats and poll timeouts; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">Where the dispatcher logs; nowhere when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the <c>Comety</c> meter the dispatcher reports to; a meter of its own when <see langword="null"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public CometyDispatcher(
        DispatcherOptions? options = null,
        IEventLog? log = null,
        TimeProvider? timeProvider = null,
        ILogger<CometyDispatcher>? logger = null,
        IMeterFactory? meterFactory = null)
    {
        _options = options ?? new DispatcherOptions();
        _options.Validate();
        _log = log ?? new InMemoryEventLog();
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _timer = new MultiTimer(_timeProvider, e => Log.TimerCallbackFailed(_logger, e));
        _onHeartbeatDue = state => OnHeartbeatDue((UserState)state!);

        _shared = _log as ISharedEventLog;
        if (_shared is null)
        {
            // Until a shared log's users' windows are loaded, polls and registrations wait for them (a
            // few seconds at most: then, or as soon as the store fails, they are refused as unavailable).
            _loaded.TrySetResult();
        }

        _lastDelivered = _log.LastSequence;
        _lastRetained = _lastDelivered;
        _metrics = new DispatcherMetrics(this, meterFactory);
        var tick = _options.HeartbeatTimeout / RetentionTicksPerWindow;
        _retentionClock = _timeProvider.CreateTimer(static state => ((CometyDispatcher)state!).OnRetentionTick(), this, tick, tick);
    }

    /// <summary>Gets the log the dispatcher appends to and delivers from.</summary>
    public IEventLog EventLog => _log;

    /// <summary>Gets the dispatcher's settings.</summary>
    public DispatcherOptions Options => _options;

    /// <summary>
    /// Gets the clock the dispatcher keeps time with: poll timeouts, heartbeats and retention. An
    /// adapter that waits by itself (the streams of <c>CometyController</c>) measures with it too.
    /// </summary>
    public TimeProvider TimeProvider => _timeProvider;

    /// <summary>
    /// Gets the highest sequence number issued so far; on a shared log, the highest this server has
    /// applied (a page rendered here from it gets every later event on any server).
    /// </summary>
    public long LastSequence => _shared is null ? _log.LastSequence : Volatile.Read(ref _lastDelivered);

    /// <summary>Gets how many users are registered.</summary>
    public int UserCount => Volatile.Read(ref _userCount);

    /// <summary>Gets how many polls are waiting for an event.</summary>
    internal int WaitingPollCount => Volatile.Read(ref _waitingPolls);

    /// <summary>Gets how many events were appended to the log.</summary>
    internal long EventsPosted => Interlocked.Read(ref _eventsPosted);

    /// <summary>Gets how many times an event was put in a user's inbox.</summary>
    internal long EventsDelivered => Interlocked.Read(ref _eventsDelivered);

    /// <summary>Gets the highest sequence number delivered to the users' inboxes.</summary>
    internal long LastDeliveredSequence => Volatile.Read(ref _lastDelivered);

    /// <summary>Gets how many delivered events are kept because some recipient has not confirmed them.</summary>
    internal int RetainedEventCount
    {
        get
        {
            lock (_retainedLock)
            {
                return _retained.Count;
            }
        }
    }

    internal MultiTimer Timer => _timer;

    internal DispatcherMetrics Metrics => _metrics;

    /// <summary>
    /// Notes that a page was rendered at <paramref name="position"/> and will start polling from it:
    /// for a few seconds (one to two thirds of <see cref="DispatcherOptions.HeartbeatTimeout"/>) no
    /// inbox lets go of the events after it, even if another page of the same user handled them.
    /// <c>&lt;comety-script&gt;</c> calls it for every page it renders; call it where a page of your
    /// own takes its position from <see cref="LastSequence"/>.
    /// </summary>
    /// <param name="position">The position the page was rendered at.</param>
    public void NotePageRendered(long position)
    {
        var current = Volatile.Read(ref _renderedThisTick);
        while (position < current)
        {
            var seen = Interlocked.CompareExchange(ref _renderedThisTick, position, current);
            if (seen == current)
            {
                break;
            }

            current = seen;
        }
    }

    /// <summary>Gets the lowest position a page was rendered at lately, for the tests; <see cref="long.MaxValue"/> when none was.</summary>
    internal long RenderedFloor => Math.Min(Volatile.Read(ref _renderedThisTick), Volatile.Read(ref _renderedLastTick));

    private void OnRetentionTick()
    {
        Volatile.Write(ref _renderedLastTick, Interlocked.Exchange(ref _renderedThisTick, long.MaxValue));
        Interlocked.Increment(ref _retentionTick);
        if (_shared is not null)
        {
            NoteDeliveredAtTick();
        }
    }

    /// <summary>Gets whether <see cref="StopPolling"/> was called: the application is stopping, and polls are answered at once.</summary>
    public bool IsStopping => _stopping || _disposed;

    /// <summary>
    /// Ends every waiting poll (each returns with no events) and makes later polls return at once,
    /// as an application does when it starts stopping, so that it need not wait out each poll's
    /// hold. Everything else goes on working: events can still be posted while the application stops.
    /// </summary>
    public void StopPolling()
    {
        _stopping = true;
        foreach (var (_, user) in _users)
        {
            user.WakeUp();
        }
    }

    /// <summary>Ends waiting polls (they return with no events) and stops the heartbeats; later calls fail.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        StopShared();
        _retentionClock.Dispose();
        _timer.Dispose();
        _metrics.Dispose();
        foreach (var (_, user) in _users)
        {
            user.WakeUp();
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>
    /// Returns the estimator of a user's network delay for one of its connections: a browser's
    /// session, say, so that a phone and a laptop of the same user are measured apart. The
    /// estimator lives with the user (a few connection keys at most) and goes when it is unregistered.
    /// </summary>
    /// <param name="userId">The user's id.</param>
    /// <param name="connectionKey">What tells the user's connections apart, or <see langword="null"/> for one estimator per user.</param>
    /// <returns>The estimator; thread-safe.</returns>
    /// <exception cref="UnknownUserException">The user is not registered.</exception>
    public NetworkDelayEstimator GetNetworkDelayEstimator(string userId, string? connectionKey = null) =>
        GetUser(userId).NetworkDelays.Get(connectionKey);

    private UserState GetUser(string userId)
    {
        ArgumentNullException.ThrowIfNull(userId);
        ThrowIfDisposed();
        if (!_users.TryGetValue(userId, out var user))
        {
            throw new UnknownUserException(userId);
        }

        return user;
    }
}
