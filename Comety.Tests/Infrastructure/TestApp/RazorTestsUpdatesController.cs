using Microsoft.AspNetCore.Mvc;

namespace Comety.Tests.Infrastructure.TestApp;

/// <summary>An updates URL with a route value, for <c>asp-route-room</c>: <c>/razor-tests/{room}/updates</c>.</summary>
[Route("razor-tests/{room}/updates")]
public sealed class RazorTestsUpdatesController : CometyController
{
    protected override string? GetUserId() => Request.Cookies[TestUpdatesController.UserCookie];
}
