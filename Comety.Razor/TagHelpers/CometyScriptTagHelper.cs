using System.Text.Encodings.Web;
using Comety.Internal;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.AspNetCore.Mvc.Routing;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
using Microsoft.AspNetCore.Razor.TagHelpers;
using Microsoft.Extensions.Options;

namespace Comety;

/// <summary>
/// <c>&lt;comety-script&gt;</c>: puts the Comety browser API on a page, the script elements that
/// load <c>comety.js</c> (and jQuery, if asked) and create the API with the page's settings.
/// </summary>
/// <example><c>&lt;comety-script asp-controller="ChatUpdates" asp-action="Updates" auto-start resume-after="@Model.Position" /&gt;</c></example>
[HtmlTargetElement("comety-script", TagStructure = TagStructure.WithoutEndTag)]
public sealed class CometyScriptTagHelper : TagHelper
{
    private const string ApiNameAttribute = "api-name";
    private const string JQueryNameAttribute = "jquery-name";
    private const string RenderApiAttribute = "render-api";
    private const string RenderTimingAttribute = "render-timing";
    private const string AutoStartAttribute = "auto-start";
    private const string UrlAttribute = "url";
    private const string ControllerAttribute = "asp-controller";
    private const string ActionAttribute = "asp-action";
    private const string RouteValuesDictionaryName = "asp-all-route-data";
    private const string RouteValuesPrefix = "asp-route-";
    private const string TimeoutAttribute = "timeout";
    private const string IncludeJQueryAttribute = "include-jquery";
    private const string NonceAttribute = "nonce";
    private const string ResumeAfterAttribute = "resume-after";
    private const string ConfirmUserAttribute = "confirm-user";
    private const string DispatcherAttribute = "dispatcher";
    private const string TransportAttribute = "transport";
    private const string ShareAsAttribute = "share-as";
    private const string ShareTabsAttribute = "share-tabs";

    private readonly CometyScriptRenderer _renderer;
    private readonly IUrlHelperFactory _urlHelperFactory;

    /// <summary>Creates the tag helper; Razor does this.</summary>
    /// <param name="javaScriptEncoder">Encodes every value written into the script.</param>
    /// <param name="options">The Comety options, for the default timeout and antiforgery.</param>
    /// <param name="urlHelperFactory">Makes the updates URL from a controller and an action.</param>
    public CometyScriptTagHelper(JavaScriptEncoder javaScriptEncoder, IOptions<CometyOptions> options, IUrlHelperFactory urlHelperFactory)
    {
        _renderer = new CometyScriptRenderer(javaScriptEncoder, options);
        _urlHelperFactory = urlHelperFactory;
    }

    /// <summary>Gets or sets the name of the page variable that holds the API. The default is <c>comety</c>.</summary>
    [HtmlAttributeName(ApiNameAttribute)]
    public string ApiName { get; set; } = "comety";

    /// <summary>Gets or sets the name of the page variable that holds jQuery. The default is <c>jQuery</c>.</summary>
    [HtmlAttributeName(JQueryNameAttribute)]
    public string JQueryName { get; set; } = "jQuery";

    /// <summary>Gets or sets whether to render the API (<c>comety.js</c> and its settings). The default is <see langword="true"/>.</summary>
    [HtmlAttributeName(RenderApiAttribute)]
    public bool RenderApi { get; set; } = true;

    /// <summary>
    /// Gets or sets whether to render the timing snippet, which notes when the page started so that
    /// the first poll can report its <c>elapsed</c> time. Put a <c>render-api="false"</c> element
    /// early in the head to start timing sooner. The default is <see langword="true"/>.
    /// </summary>
    [HtmlAttributeName(RenderTimingAttribute)]
    public bool RenderTiming { get; set; } = true;

    /// <summary>Gets or sets whether updates start by themselves when the page is ready. The default is <see langword="false"/>.</summary>
    [HtmlAttributeName(AutoStartAttribute)]
    public bool AutoStart { get; set; }

    /// <summary>Gets or sets the updates URL, the route of a <see cref="CometyController"/> subclass; or use <c>asp-controller</c> and <c>asp-action</c> instead (not both).</summary>
    [HtmlAttributeName(UrlAttribute)]
    public string? Url { get; set; }

    /// <summary>Gets or sets the controller whose <c>Updates</c> action serves the updates URL.</summary>
    [HtmlAttributeName(ControllerAttribute)]
    public string? Controller { get; set; }

    /// <summary>Gets or sets the action that serves the updates URL; <c>Updates</c> when only the controller is given.</summary>
    [HtmlAttributeName(ActionAttribute)]
    public string? Action { get; set; }

    /// <summary>Gets or sets route values for the updates URL, from <c>asp-route-*</c> attributes.</summary>
    [HtmlAttributeName(RouteValuesDictionaryName, DictionaryAttributePrefix = RouteValuesPrefix)]
    public IDictionary<string, string> RouteValues { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets or sets the seconds a poll waits before the browser gives up; <see cref="CometyOptions.ClientTimeout"/> by default.</summary>
    [HtmlAttributeName(TimeoutAttribute)]
    public double? Timeout { get; set; }

    /// <summary>Gets or sets whether to load jQuery from Comety's static assets first. The default is <see langword="false"/>.</summary>
    [HtmlAttributeName(IncludeJQueryAttribute)]
    public bool IncludeJQuery { get; set; }

    /// <summary>Gets or sets the Content-Security-Policy nonce every rendered script element carries.</summary>
    [HtmlAttributeName(NonceAttribute)]
    public string? Nonce { get; set; }

    /// <summary>
    /// Gets or sets the page's position: <see cref="Comety.CometyDispatcher.LastSequence"/> read where
    /// the page's data was read (in the same lock or transaction), so that the page's first poll
    /// gets exactly the events its data does not show yet. When not set, the position is read as
    /// this element renders, which misses what is posted between the data read and the render.
    /// </summary>
    [HtmlAttributeName(ResumeAfterAttribute)]
    public long? ResumeAfter { get; set; }

    /// <summary>
    /// Gets or sets nothing any more: every page now resumes from its own position, taken as it
    /// renders unless <c>resume-after</c> gives the exact one. The value is ignored.
    /// </summary>
    [HtmlAttributeName(ConfirmUserAttribute)]
    [Obsolete("Every page now resumes from its own position: remove confirm-user, and give resume-after the position read with the page's data for the exact form.")]
    public string? ConfirmUser { get; set; }

    /// <summary>Gets or sets the dispatcher the page's position is read from; the one <c>AddComety</c> registers by default.</summary>
    [HtmlAttributeName(DispatcherAttribute)]
    public CometyDispatcher? Dispatcher { get; set; }

    /// <summary>
    /// Gets or sets how the page receives events: <c>auto</c> (the default) streams them on one
    /// response and long-polls where streams do not get through, <c>stream</c> only streams,
    /// <c>poll</c> only long-polls. Any other value fails as the element renders.
    /// </summary>
    [HtmlAttributeName(TransportAttribute)]
    public string? Transport { get; set; }

    /// <summary>
    /// Gets or sets the page's user id, for the tabs of one browser to share one poll or stream: tabs
    /// with the same updates URL and user share it. The page gets an opaque tag made from the id (an
    /// HMAC with a key of the server's process), never the id itself. Without it, each tab has its own.
    /// </summary>
    [HtmlAttributeName(ShareAsAttribute)]
    public string? ShareAs { get; set; }

    /// <summary>Gets or sets whether the page's tabs may share one connection (with <c>share-as</c>). The default is <see langword="true"/>.</summary>
    [HtmlAttributeName(ShareTabsAttribute)]
    public bool ShareTabs { get; set; } = true;

    /// <summary>Gets or sets the view context; Razor sets it.</summary>
    [ViewContext]
    [HtmlAttributeNotBound]
    public ViewContext ViewContext { get; set; } = default!;

    /// <inheritdoc/>
    public override async Task ProcessAsync(TagHelperContext context, TagHelperOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var settings = new CometyScriptSettings
        {
            ApiName = ApiName,
            JQueryName = JQueryName,
            RenderApi = RenderApi,
            RenderTiming = RenderTiming,
            AutoStart = AutoStart,
            IncludeJQuery = IncludeJQuery,
            Url = UpdatesUrl(),
            TimeoutSeconds = Timeout,
            Nonce = Nonce,
            Transport = Transport,
            ShareAs = ShareAs,
            ShareTabs = ShareTabs,
            ResumeAfter = ResumeAfter,
            Dispatcher = Dispatcher,
        };

        output.TagName = null;
        output.Content.SetHtmlContent(await _renderer.RenderAsync(ViewContext.HttpContext, settings));
    }

    private string? UpdatesUrl()
    {
        var url = CometyScriptSettings.Given(Url);
        var controller = CometyScriptSettings.Given(Controller);
        var action = CometyScriptSettings.Given(Action);
        if (controller is null && action is null && RouteValues.Count == 0)
        {
            return url;
        }

        if (url is not null)
        {
            // As with <a href asp-action>: one of the two would be silently ignored.
            throw new InvalidOperationException($"<comety-script> takes either '{UrlAttribute}' or '{ControllerAttribute}', '{ActionAttribute}' and '{RouteValuesPrefix}*', not both.");
        }

        action ??= "Updates";
        var values = new RouteValueDictionary(RouteValues.Select(static pair => KeyValuePair.Create(pair.Key, (string?)pair.Value)));
        return _urlHelperFactory.GetUrlHelper(ViewContext).Action(new UrlActionContext { Action = action, Controller = controller, Values = values })
            ?? throw new InvalidOperationException($"<comety-script> found no route to the updates URL: controller '{controller ?? "(the current one)"}', action '{action}', route values {{{string.Join(", ", RouteValues.Select(static pair => $"{pair.Key}={pair.Value}"))}}}.");
    }
}
