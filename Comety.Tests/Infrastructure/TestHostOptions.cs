using Comety.Tests.Infrastructure.TestApp;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Comety.Tests.Infrastructure;

/// <summary>How a <see cref="TestHost"/> is set up.</summary>
public sealed class TestHostOptions
{
    /// <summary>Whether the application has ASP.NET Core sessions.</summary>
    public bool Session { get; set; }

    /// <summary>Whether the application validates antiforgery tokens (MVC with views does by default).</summary>
    public bool Antiforgery { get; set; } = true;

    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(15);

    public int MaxMessageBytes { get; set; } = 64 * 1024;

    public int MaxBacklog { get; set; } = 1000;

    /// <summary>
    /// The channels the test application lets pages join (<see cref="CometyOptions.ClientChannels"/>),
    /// added after those in <see cref="Configuration"/>: the rooms and the lobby the tests use. Clear
    /// it to test Comety's default, no channel at all.
    /// </summary>
    public List<string> ClientChannels { get; } = ["room-*", "lobby"];

    /// <summary>A clock for the dispatcher and the controller; the system's when null.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>What the test controller does in its hooks.</summary>
    public TestBehaviour Behaviour { get; set; } = new();

    public Action<CometyOptions>? Configure { get; set; }

    public Action<IServiceCollection>? ConfigureServices { get; set; }

    /// <summary>Configuration entries (such as <c>Comety:MaxClientTimeout</c>) added to the application's configuration.</summary>
    public Dictionary<string, string?> Configuration { get; } = [];

    /// <summary>Adds middleware or endpoints after sessions and before the controllers.</summary>
    public Action<WebApplication>? ConfigureApp { get; set; }
}
