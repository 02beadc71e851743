using System.Text.Encodings.Web;
using Comety.Internal;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ViewComponents;
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
    /// <param name="url">The updates URL; or give <paramref name="controller"/> (and <paramref name="action"/>) instead, not both.</param>
    /// <param name="controller">The controller that serves the updates URL.</param>
    /// <param name="action">Its action; <c>Updates</c> by default.</param>
    /// <param name="routeValues">Route values for the updates URL, as the tag helper's <c>asp-route-*</c>: an object or a dictionary.</param>
    /// <param name="apiName">The name of the page variable that holds the API.</param>
    /// <param name="jqueryName">The name of the page variable that holds jQuery.</param>
    /// <param name="renderApi">Whether to render the API.</param>
    /// <param name="renderTiming">Whether to render the timing snippet.</param>
    /// <param name="autoStart">Whether updates start by themselves when the page is ready.</param>
    /// <param name="timeout">The seconds a poll waits before the browser gives up.</param>
    /// <param name="includeJquery">Whether to load jQuery from Comety's static assets first.</param>
    /// <param name="nonce">The Content-Security-Policy nonce of every rendered script element.</param>
    /// <param name="resumeAfter">The page's position, <see cref="CometyDispatcher.LastSequence"/> read with the page's data; read at render when <see langword="null"/>.</param>
    /// <param name="dispatcher">The dispatcher the position is read from; the one <c>AddComety</c> registers by default.</param>
    /// <param name="transport">How the page receives events: <c>auto</c> (the default), <c>stream</c> or <c>poll</c>.</param>
    /// <param name="shareAs">The page's user id, for its tabs to share one connection (rendered as an opaque tag); none share without it.</param>
    /// <param name="shareTabs">Whether the page's tabs may share one connection.</param>
    /// <returns>The script elements.</returns>
    public async Task<IViewComponentResult> InvokeAsync(
        string? url = null,
        string? controller = null,
        string? action = null,
        object? routeValues = null,
        string apiName = "comety",
        string jqueryName = "jQuery",
        bool renderApi = true,
        bool renderTiming = true,
        bool autoStart = false,
        double? timeout = null,
        bool includeJquery = false,
        string? nonce = null,
        long? resumeAfter = null,
        CometyDispatcher? dispatcher = null,
        string? transport = null,
        string? shareAs = null,
        bool shareTabs = true)
    {
        var settings = new CometyScriptSettings
        {
            ApiName = apiName,
            JQueryName = jqueryName,
            RenderApi = renderApi,
            RenderTiming = renderTiming,
            AutoStart = autoStart,
            IncludeJQuery = includeJquery,
            Url = UpdatesUrl(url, controller, action, routeValues),
            TimeoutSeconds = timeout,
            Nonce = nonce,
            Transport = transport,
            ShareAs = shareAs,
            ShareTabs = shareTabs,
            ResumeAfter = resumeAfter,
            Dispatcher = dispatcher,
        };

        return new HtmlContentViewComponentResult(await _renderer.RenderAsync(HttpContext, settings));
    }

    private string? UpdatesUrl(string? url, string? controller, string? action, object? routeValues)
    {
        url = CometyScriptSettings.Given(url);
        controller = CometyScriptSettings.Given(controller);
        action = CometyScriptSettings.Given(action);
        if (controller is null && action is null && routeValues is null)
        {
            return url;
        }

        if (url is not null)
        {
            throw new InvalidOperationException("The CometyScript view component takes either 'url' or 'controller', 'action' and 'routeValues', not both.");
        }

        action ??= "Updates";
        return Url.Action(action, controller, routeValues)
            ?? throw new InvalidOperationException($"The CometyScript view component found no route to the updates URL: controller '{controller ?? "(the current one)"}', action '{action}'.");
    }
}
