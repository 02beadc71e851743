using Microsoft.AspNetCore.Mvc;

namespace Comety.LoadTest.CometyServer;

/// <summary>The updates URL of the load-test application; the user is the one the registration cookie names.</summary>
[Route("updates")]
public sealed class BenchUpdatesController : CometyController
{
    /// <summary>The cookie <c>/register</c> sets.</summary>
    public const string UserCookie = "bench-user";

    /// <inheritdoc />
    protected override string? GetUserId() => Request.Cookies[UserCookie];
}
