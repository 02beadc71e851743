namespace Comety.Tests.Infrastructure.TestApp;

/// <summary>Switches for the test controller's hooks, set by a test before it sends requests.</summary>
public sealed class TestBehaviour
{
    /// <summary>Channels the controller refuses to subscribe anyone to, even when <c>Comety:ClientChannels</c> opens them.</summary>
    public HashSet<string> RefusedChannels { get; } = new(StringComparer.Ordinal);

    /// <summary>Channels the controller lets a page join although <c>Comety:ClientChannels</c> does not open them.</summary>
    public HashSet<string> AllowedChannels { get; } = new(StringComparer.Ordinal);

    /// <summary>Channels the controller refuses to let a page leave.</summary>
    public HashSet<string> KeptChannels { get; } = new(StringComparer.Ordinal);

    /// <summary>Whether the controller pretends no dispatcher serves it.</summary>
    public bool NoDispatcher { get; set; }

    /// <summary>What the controller throws when asked who the user is, as a misconfigured application would; nothing when null.</summary>
    public Exception? UserIdFailure { get; set; }

    /// <summary>What the controller throws when asked to authorize a subscription, as a failing application would; nothing when null.</summary>
    public Exception? SubscriptionFailure { get; set; }
}
