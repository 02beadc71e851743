namespace Comety;

/// <summary>
/// Settings of Comety in an ASP.NET Core application, bound from the <c>Comety</c>
/// configuration section by <c>AddComety</c> and validated at start-up.
/// </summary>
public sealed class CometyOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Comety";

    // The dispatcher's settings take their defaults from Comety.Core, which states them once.
    private static readonly DispatcherOptions DispatcherDefaults = new();

    /// <summary>
    /// Gets or sets how long a user may go without polling, on top of its expected network
    /// delay, before it is treated as disconnected. The default is 15 seconds.
    /// </summary>
    public TimeSpan HeartbeatTimeout { get; set; } = DispatcherDefaults.HeartbeatTimeout;

    /// <summary>Gets or sets the largest <c>timeout</c> a poll may ask for. The default is 300 seconds.</summary>
    public TimeSpan MaxClientTimeout { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>
    /// Gets or sets the share of the client's timeout the server holds a poll for, less the
    /// expected network delay, so that the answer arrives before the client gives up. The default is 0.5.
    /// </summary>
    public double ResponseTimeoutFactor { get; set; } = 0.5;

    /// <summary>Gets or sets the poll timeout pages use unless <c>&lt;comety-script timeout&gt;</c> says otherwise. The default is 10 seconds.</summary>
    public TimeSpan ClientTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how long a stream (a <c>GET</c> that asks for <c>text/event-stream</c>, protocol
    /// version 2) stays open before the server ends it and the page opens the next one from its
    /// position, so that heartbeats, load balancers and deployments see fresh requests. Each stream
    /// ends somewhere in the last fifth of it, so that streams opened together do not all end
    /// together. The default is 60 seconds.
    /// </summary>
    public TimeSpan StreamDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Gets or sets the longest silence on an open stream: when no event was written for this long,
    /// the server writes a comment line, so that proxies keep the connection and the page sees it
    /// alive. At most <see cref="StreamDuration"/>. The default is 15 seconds.
    /// </summary>
    public TimeSpan StreamKeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets or sets the largest body a page may send. The default is 64 KiB.</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Gets or sets whether sends must carry the antiforgery token when the application has
    /// antiforgery (MVC with views has it). The default is <see langword="true"/>.
    /// </summary>
    public bool ValidateAntiforgery { get; set; } = true;

    /// <summary>
    /// Gets the channels pages may join by themselves, with a <c>subscribe</c> send: each entry an
    /// exact channel name (<c>lobby</c>), or a prefix followed by one trailing <c>*</c>
    /// (<c>room:*</c> opens every channel whose name starts with <c>room:</c>; <c>*</c> alone opens
    /// every channel). Names are compared ordinally, case-sensitive. The default is empty: a page may
    /// join no channel by itself, and only the application subscribes users
    /// (<see cref="CometyDispatcher.SubscribeAsync"/> is never restricted).
    /// </summary>
    /// <remarks>
    /// This is what <see cref="CometyController"/>'s default <c>AuthorizeSubscriptionAsync</c>
    /// checks; a controller that overrides that hook decides alone, and calls the base method to
    /// keep these patterns. An invalid pattern (empty, a <c>*</c> anywhere but at the end, white
    /// space at either end, or no possible channel name) stops the start-up with a message naming it.
    /// </remarks>
    public IList<string> ClientChannels { get; } = [];

    /// <summary>
    /// Gets or sets how many channels a user may be in for a page's <c>subscribe</c> to be accepted:
    /// one beyond it is refused with 403. Every channel counts, however the user joined it; the
    /// application's own <see cref="CometyDispatcher.SubscribeAsync"/> calls are never refused. The default is 100.
    /// </summary>
    public int MaxClientChannelsPerUser { get; set; } = 100;

    /// <summary>Gets or sets how many unconfirmed events a user may have before it must resynchronise. The default is 1,000.</summary>
    public int MaxBacklog { get; set; } = DispatcherDefaults.MaxBacklog;

    /// <summary>Gets or sets how many unconfirmed events the dispatcher keeps at most, whoever holds them. The default is 100,000.</summary>
    public int MaxRetainedEvents { get; set; } = DispatcherDefaults.MaxRetainedEvents;

    /// <summary>
    /// Gets or sets how many polls of one user may wait at once; a poll beyond them is answered
    /// 429 and the page asks again after a while. The default is 10.
    /// </summary>
    public int MaxPollsPerUser { get; set; } = DispatcherDefaults.MaxPollsPerUser;

    /// <summary>Gets or sets whether a user removed by a heartbeat timeout is announced with <c>unregister-user</c>. The default is <see langword="false"/>.</summary>
    public bool NotifyOnTimeout { get; set; }

    /// <summary>Returns the settings of the dispatcher that <c>AddComety</c> registers.</summary>
    /// <returns>New dispatcher options with these values.</returns>
    public DispatcherOptions ToDispatcherOptions() => new()
    {
        HeartbeatTimeout = HeartbeatTimeout,
        MaxBacklog = MaxBacklog,
        MaxRetainedEvents = MaxRetainedEvents,
        MaxPollsPerUser = MaxPollsPerUser,
        NotifyOnTimeout = NotifyOnTimeout,
    };
}
