using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Comety.Tests.Infrastructure.TestApp;

/// <summary>
/// Pages for the Razor tests: <c>/razor-tests/parity</c> renders the same settings with the tag
/// helper and both forms of the view component; <c>/razor-tests/page?user=…</c> is a page written as
/// a user would write it, with literal attributes and a routed updates URL.
/// </summary>
[Route("razor-tests")]
public sealed class RazorTestsController(CometyDispatcher dispatcher) : Controller
{
    [HttpGet("parity")]
    public IActionResult Parity([FromQuery] RazorTestsScriptModel model) => View("~/Views/RazorTests/Parity.cshtml", model);

    [HttpGet("page")]
    public async Task<IActionResult> Page(string user)
    {
        if (!dispatcher.IsRegistered(user))
        {
            await dispatcher.RegisterUserAsync(user, cancellationToken: HttpContext.RequestAborted);
        }

        Response.Cookies.Append(TestUpdatesController.UserCookie, user, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict });
        ViewData["User"] = user;
        return View("~/Views/RazorTests/Page.cshtml");
    }
}
