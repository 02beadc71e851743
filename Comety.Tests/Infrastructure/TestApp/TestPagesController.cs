using System.Security.Cryptography;
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
/// <remarks>
/// The query also sets: <c>jquery</c>, a path to the page's own jQuery (on which the page registers a
/// stand-in plugin, <c>jQuery.fn.testPlugin</c>), or <c>none</c> for no jQuery at all (by default
/// Comety's, with <c>include-jquery</c>); <c>includeJquery</c>, to ask for Comety's jQuery as well as
/// the page's own; <c>signedIn=false</c>, for a visitor with no user cookie; <c>register=false</c>, for
/// a user the server never registers; <c>confirm=false</c>, for a page that resumes after 0,
/// whose first poll gets every event still kept for its user; <c>handlers=defaults</c>, to keep comety.js's default handler and
/// error handler, or <c>default-errors</c>, the default error handler only; <c>csp=true</c>, to serve
/// the page under a Content-Security-Policy that allows only scripts with the page's nonce;
/// <c>transport</c>, the page's <c>transport</c> attribute (<c>auto</c> when not given); <c>shareAs</c>,
/// the page's <c>share-as</c> attribute (tabs with the same value share one connection); <c>shareTabs=false</c>,
/// its <c>share-tabs="false"</c>.
/// </remarks>
[Route("test")]
public sealed class TestPagesController(CometyDispatcher dispatcher) : Controller
{
    [HttpGet("page")]
    public async Task<IActionResult> Page(
        string user,
        bool autoStart = true,
        string? jquery = null,
        bool includeJquery = false,
        bool signedIn = true,
        bool register = true,
        string handlers = "test",
        bool confirm = true,
        bool csp = false,
        string? postBetween = null,
        string? transport = null,
        string? shareAs = null,
        bool shareTabs = true)
    {
        var registered = signedIn && register;
        if (registered)
        {
            await dispatcher.EnsureRegisteredAsync(user);
        }

        if (signedIn)
        {
            Response.Cookies.Append(TestUpdatesController.UserCookie, user, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict });
        }

        string? nonce = null;
        if (csp)
        {
            nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            Response.Headers.ContentSecurityPolicy = $"script-src 'nonce-{nonce}'";
        }

        // Read as the page's data would be; with postBetween, an event lands after the read and before the render.
        var position = dispatcher.LastSequence;
        if (postBetween is not null)
        {
            await dispatcher.BroadcastAsync("test", new Dictionary<string, object?> { [CometyEvent.TypeArgument] = postBetween });
        }

        // confirm=false: a page that polls from the start, as one without a position of its own would.
        ViewData["Position"] = registered && confirm ? position : 0L;
        ViewData["User"] = user;
        ViewData["AutoStart"] = autoStart;
        ViewData["JQuery"] = jquery;
        ViewData["IncludeJQuery"] = jquery is null || includeJquery;
        ViewData["Handlers"] = handlers;
        ViewData["Nonce"] = nonce;
        ViewData["Transport"] = transport;
        ViewData["ShareAs"] = shareAs;
        ViewData["ShareTabs"] = shareTabs;
        return View("~/Views/TestPages/Page.cshtml");
    }

    /// <summary>
    /// <c>/test/module-page?user=…</c>: a page that imports comety.mjs as an ES module (no
    /// <c>&lt;comety-script&gt;</c>) and creates the API itself, recording events as the test page does.
    /// </summary>
    [HttpGet("module-page")]
    public async Task<IActionResult> ModulePage(string user)
    {
        await dispatcher.EnsureRegisteredAsync(user);
        Response.Cookies.Append(TestUpdatesController.UserCookie, user, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict });
        ViewData["Position"] = dispatcher.LastSequence;
        ViewData["User"] = user;
        return View("~/Views/TestPages/Module.cshtml");
    }
}
