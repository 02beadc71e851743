using System.Text.Encodings.Web;
using Comety.Internal;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ViewComponents;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Comety;

/// <summary>
/// The Comety browser API for pages that prefer view components: renders what
/// <c>&lt;comety-script&gt;</c> renders, for <c>@await Component.InvokeAsync("CometyScript", new { url = "/chat/updates" })</c>
/// or <c>&lt;vc:comety-script url="/chat/updates" /&gt;</c>.
/// </summary>
[ViewComponent(Name = "CometyScript")]
public sealed class CometyScriptViewComponent : ViewComponent
{
    private readonly CometyScriptRenderer _renderer;

    /// <summary>Creates the view component; MVC does this.</summary>
    /// <param name="javaScriptEncoder">Encodes every value written into the script.</param>
    /// <param name="options">The Comety options, for the default timeout and antiforgery.</param>
    public CometyScriptViewComponent(JavaScriptEncoder javaScriptEncoder, IOptions<CometyOptions> options) =>
        _renderer = new CometyScriptRenderer(javaScriptEncoder, options);

    /// <summary>Renders the script elements; the parameters mean what the tag helper's attributes of the same names mean.</summary>
    /// <param name="url">The updates URL; or give <paramref name="controller"/> (and <paramref name="action"/>).</param>
    /// <param name="controller">The controller that serves the updates URL.</param>
    /// <param name="action">Its action; <c>Updates</c> by default.</param>
    /// <param name="apiName">The name of the page variable that holds the API.</param>
    /// <param name="jqueryName">The name of the page variable that holds jQuery.</param>
    /// <param name="renderApi">Whether to render the API.</param>
    /// <param name="renderTiming">Whether to render the timing snippet.</param>
    /// <param name="autoStart">Whether updates start by themselves when the page is ready.</param>
    /// <param name="timeout">The seconds a poll waits before the browser gives up.</param>
    /// <param name="includeJquery">Whether to load jQuery from Comety's static assets first.</param>
    /// <param name="nonce">The Content-Security-Policy nonce of every rendered script element.</param>
    /// <param name="confirmUser">The user the page is rendered for, whose events so far are confirmed.</param>
    /// <returns>The script elements.</returns>
    public async Task<IViewComponentResult> InvokeAsync(
        string? url = null,
        string? controller = null,
        string? action = null,
        string apiName = "comety",
        string jqueryName = "jQuery",
        bool renderApi = true,
        bool renderTiming = true,
        bool autoStart = false,
        double? timeout = null,
        bool includeJquery = false,
        string? nonce = null,
        string? confirmUser = null)
    {
        var settings = new CometyScriptSettings
        {
            ApiName = apiName,
            JQueryName = jqueryName,
            RenderApi = renderApi,
            RenderTiming = renderTiming,
            AutoStart = autoStart,
            IncludeJQuery = includeJquery,
            Url = url ?? (controller is null && action is null ? null : Url.Action(action ?? "Updates", controller)),
            TimeoutSeconds = timeout,
            Nonce = nonce,
        };
        if (confirmUser is not null)
        {
            var dispatcher = HttpContext.RequestServices.GetService<Dispatcher>()
                ?? throw new InvalidOperationException("confirmUser needs the dispatcher that services.AddComety() registers.");
            settings.Confirm = await dispatcher.ConfirmAllAsync(confirmUser, HttpContext.RequestAborted);
        }

        return new HtmlContentViewComponentResult(_renderer.Render(HttpContext, settings));
    }
}
