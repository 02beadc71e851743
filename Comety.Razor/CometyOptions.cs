namespace Comety;

/// <summary>
/// Settings of Comety in an ASP.NET Core application, bound from the <c>Comety</c>
/// configuration section by <c>AddComety</c> and validated at start-up.
/// </summary>
public sealed class CometyOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Comety";

    /// <summary>
    /// Gets or sets how long a user may go without polling, on top of its expected network
    /// delay, before it is treated as disconnected. The default is 15 seconds.
    /// </summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets or sets the largest <c>timeout</c> a poll may ask for. The default is 300 seconds.</summary>
    public TimeSpan MaxClientTimeout { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>
    /// Gets or sets the share of the client's timeout the server holds a poll for, less the
    /// expected network delay, so that the answer arrives before the client gives up. The default is 0.5.
    /// </summary>
    public double ResponseTimeoutFactor { get; set; } = 0.5;

    /// <summary>Gets or sets the poll timeout pages use unless <c>&lt;comety-script timeout&gt;</c> says otherwise. The default is 10 seconds.</summary>
    public TimeSpan ClientTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the largest body a page may send. The default is 64 KiB.</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Gets or sets whether sends must carry the antiforgery token when the application has
    /// antiforgery (MVC with views has it). The default is <see langword="true"/>.
    /// </summary>
    public bool ValidateAntiforgery { get; set; } = true;

    /// <summary>Gets or sets how many unconfirmed events a user may have before it must resynchronise. The default is 1,000.</summary>
    public int MaxBacklog { get; set; } = 1000;

    /// <summary>Gets or sets how many unconfirmed events the dispatcher keeps at most, whoever holds them. The default is 100,000.</summary>
    public int MaxRetainedEvents { get; set; } = 100_000;

    /// <summary>Gets or sets whether a user removed by a heartbeat timeout is announced with <c>unregister-user</c>. The default is <see langword="false"/>.</summary>
    public bool NotifyOnTimeout { get; set; }

    /// <summary>Returns the settings of the dispatcher that <c>AddComety</c> registers.</summary>
    /// <returns>New dispatcher options with these values.</returns>
    public DispatcherOptions ToDispatcherOptions() => new()
    {
        HeartbeatTimeout = HeartbeatTimeout,
        MaxBacklog = MaxBacklog,
        MaxRetainedEvents = MaxRetainedEvents,
        NotifyOnTimeout = NotifyOnTimeout,
    };
}
