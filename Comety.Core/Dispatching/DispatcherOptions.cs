namespace Comety;

/// <summary>Settings of a <see cref="Dispatcher"/>.</summary>
public sealed class DispatcherOptions
{
    /// <summary>
    /// Gets or sets how many unconfirmed events a user may have before it loses them and must
    /// resynchronise. The default is 1,000.
    /// </summary>
    public int MaxBacklog { get; set; } = 1000;

    /// <summary>
    /// Gets or sets how many events the dispatcher keeps at most while some user has not
    /// confirmed them; the users holding the oldest ones must resynchronise beyond that.
    /// This bounds the log even when a user keeps polling without confirming. The default is 100,000.
    /// </summary>
    public int MaxRetainedEvents { get; set; } = 100_000;

    /// <summary>
    /// Gets or sets how many polls of one user may wait at once; a poll beyond them is refused
    /// (<see cref="PollResult.TooManyPolls"/>), so what one client holds on the server is bounded
    /// by configuration, not by the client. The default is 10: a few tabs, each with a poll and
    /// one replacing it.
    /// </summary>
    public int MaxPollsPerUser { get; set; } = 10;

    /// <summary>
    /// Gets or sets how long a user may go without polling, on top of its expected network
    /// delay, before it is treated as disconnected. The default is 15 seconds.
    /// </summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Gets or sets whether a user removed by a heartbeat timeout is announced to the others
    /// with an <c>unregister-user</c> event. The default is <see langword="false"/>.
    /// </summary>
    public bool NotifyOnTimeout { get; set; }

    /// <summary>Throws when a setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    public void Validate()
    {
        if (MaxBacklog < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBacklog), MaxBacklog, $"{nameof(MaxBacklog)} must be at least 1.");
        }

        if (MaxRetainedEvents < MaxBacklog)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRetainedEvents), MaxRetainedEvents, $"{nameof(MaxRetainedEvents)} must be at least {nameof(MaxBacklog)} ({MaxBacklog}).");
        }

        if (MaxPollsPerUser < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPollsPerUser), MaxPollsPerUser, $"{nameof(MaxPollsPerUser)} must be at least 1.");
        }

        if (HeartbeatTimeout <= TimeSpan.Zero || HeartbeatTimeout > TimeSpan.FromDays(1))
        {
            throw new ArgumentOutOfRangeException(nameof(HeartbeatTimeout), HeartbeatTimeout, $"{nameof(HeartbeatTimeout)} must be positive and at most one day.");
        }
    }
}
