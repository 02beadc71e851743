namespace Comety.Tests.Infrastructure.TestApp;

/// <summary>Switches for the test controller's hooks, set by a test before it sends requests.</summary>
public sealed class TestBehaviour
{
    /// <summary>Channels the controller refuses to subscribe anyone to.</summary>
    public HashSet<string> RefusedChannels { get; } = new(StringComparer.Ordinal);

    /// <summary>Whether the controller pretends no dispatcher serves it.</summary>
    public bool NoDispatcher { get; set; }
}
