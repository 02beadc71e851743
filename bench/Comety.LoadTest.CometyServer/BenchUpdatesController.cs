namespace Comety.LoadTest.CometyServer;

/// <summary>The updates URL of the load-test application (mapped with <c>MapComety</c>); the user is the one the registration cookie names.</summary>
public sealed class BenchUpdatesController : CometyController
{
    /// <summary>The cookie <c>/register</c> sets.</summary>
    public const string UserCookie = "bench-user";

    /// <inheritdoc />
    protected override string? GetUserId() => Request.Cookies[UserCookie];
}
