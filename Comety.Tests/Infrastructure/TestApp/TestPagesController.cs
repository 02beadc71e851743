using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Comety.Tests.Infrastructure.TestApp;

/// <summary>
/// The test application's pages. <c>/test/page?user=…</c> registers the user if needed, sets its
/// cookie and renders a page whose <c>&lt;comety-script&gt;</c> records every event in <c>window.received</c>.
/// The page's position is read as its data would be, before the view renders; with
/// <c>postBetween</c>, an event is posted after that read and before the render, as another
/// request could.
/// </summary>
[Route("test")]
public sealed class TestPagesController(Dispatcher dispatcher) : Controller
{
    [HttpGet("page")]
    public async Task<IActionResult> Page(string user, bool autoStart = true, string? jquery = null, string? postBetween = null)
    {
        if (!dispatcher.IsRegistered(user))
        {
            await dispatcher.RegisterUserAsync(user);
        }

        var position = dispatcher.LastSequence;
        if (postBetween is not null)
        {
            await dispatcher.BroadcastAsync("test", new Dictionary<string, object?> { [CometyEvent.TypeArgument] = postBetween });
        }

        ViewData["Position"] = position;

        Response.Cookies.Append(TestUpdatesController.UserCookie, user, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict });
        ViewData["User"] = user;
        ViewData["AutoStart"] = autoStart;
        ViewData["JQuery"] = jquery;
        return View("~/Views/TestPages/Page.cshtml");
    }
}
