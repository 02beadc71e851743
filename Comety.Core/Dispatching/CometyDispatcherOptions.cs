namespace Comety;

/// <summary>Settings of a <see cref="CometyDispatcher"/>.</summary>
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

    /// <summary>Throws when a setting is out of range, as the dispatcher's constructor does; a host reports every problem with <see cref="FindProblems"/> instead.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range; the message names it.</exception>
    internal void Validate()
    {
        if (FindProblems() is [var first, ..])
        {
            throw new ArgumentOutOfRangeException(first.Setting, first.Problem);
        }
    }

    /// <summary>Returns every setting that is out of range, with what is wrong with it; empty when all are valid.</summary>
    /// <returns>The name of each setting that is out of range, and a sentence that names it and says what it must be.</returns>
    public IReadOnlyList<(string Setting, string Problem)> FindProblems()
    {
        var problems = new List<(string, string)>();
        if (MaxBacklog < 1)
        {
            problems.Add((nameof(MaxBacklog), $"{nameof(MaxBacklog)} must be at least 1; it is {MaxBacklog}."));
        }

        if (MaxRetainedEvents < MaxBacklog)
        {
            problems.Add((nameof(MaxRetainedEvents), $"{nameof(MaxRetainedEvents)} must be at least {nameof(MaxBacklog)} ({MaxBacklog}); it is {MaxRetainedEvents}."));
        }

        if (MaxPollsPerUser < 1)
        {
            problems.Add((nameof(MaxPollsPerUser), $"{nameof(MaxPollsPerUser)} must be at least 1; it is {MaxPollsPerUser}."));
        }

        if (HeartbeatTimeout <= TimeSpan.Zero || HeartbeatTimeout > TimeSpan.FromDays(1))
        {
            problems.Add((nameof(HeartbeatTimeout), $"{nameof(HeartbeatTimeout)} must be positive and at most one day; it is {HeartbeatTimeout}."));
        }

        return problems;
    }
}
