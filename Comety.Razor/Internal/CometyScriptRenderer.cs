using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Html;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Comety.Internal;

/// <summary>
/// Renders the script elements that put the browser API on a page: jQuery if asked, the timing
/// snippet, <c>comety.js</c>, and one line that creates the API with the page's settings. The
/// API itself is the static file; only validated names and JavaScript-encoded values are written here.
/// </summary>
internal sealed class CometyScriptRenderer(JavaScriptEncoder javaScriptEncoder, IOptions<CometyOptions> options)
{
    public const string ScriptPath = "/_content/Comety.Razor/comety.js";
    public const string JQueryPath = "/_content/Comety.Razor/lib/jquery/dist/jquery.min.js";

    public IHtmlContent Render(HttpContext httpContext, CometyScriptSettings settings)
    {
        var apiName = JavaScriptIdentifier.Validate(settings.ApiName, "api-name");
        var jqueryName = JavaScriptIdentifier.Validate(settings.JQueryName, "jquery-name");
        var timeout = settings.TimeoutSeconds ?? options.Value.ClientTimeout.TotalSeconds;
        if (!double.IsFinite(timeout) || timeout <= 0 || timeout > options.Value.MaxClientTimeout.TotalSeconds)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), timeout, $"The timeout must be greater than 0 and at most {options.Value.MaxClientTimeout.TotalSeconds} seconds (Comety:MaxClientTimeout).");
        }

        var content = new HtmlContentBuilder();
        var pathBase = httpContext.Request.PathBase;
        if (settings.RenderTiming)
        {
            content.AppendHtml(Inline(settings.Nonce, $"(window.CometyTiming = window.CometyTiming || {{}}).{apiName} = Date.now();"));
        }

        if (settings.IncludeJQuery)
        {
            content.AppendHtml(External(settings.Nonce, pathBase.Add(JQueryPath)));
        }

        if (settings.RenderApi)
        {
            if (string.IsNullOrEmpty(settings.Url))
            {
                throw new InvalidOperationException("<comety-script> needs the updates URL: set 'url', or 'asp-controller' and 'asp-action'.");
            }

            content.AppendHtml(External(settings.Nonce, pathBase.Add(ScriptPath)));
            content.AppendHtml(Inline(settings.Nonce, $"var {apiName} = Comety.create({jqueryName}, {Settings(httpContext, settings, apiName, timeout)});"));
        }

        return content;
    }

    private string Settings(HttpContext httpContext, CometyScriptSettings settings, string apiName, double timeout)
    {
        var json = new StringBuilder("{");
        json.Append("\"name\": \"").Append(apiName).Append('"');
        json.Append(", \"url\": \"").Append(javaScriptEncoder.Encode(settings.Url!)).Append('"');
        json.Append(", \"timeout\": ").Append(timeout.ToString("R", CultureInfo.InvariantCulture));
        json.Append(", \"autoStart\": ").Append(settings.AutoStart ? "true" : "false");
        if (settings.Confirm is { } confirm)
        {
            json.Append(", \"confirm\": ").Append(confirm.ToString(CultureInfo.InvariantCulture));
        }

        if (options.Value.ValidateAntiforgery && httpContext.RequestServices.GetService<IAntiforgery>() is { } antiforgery)
        {
            var tokens = antiforgery.GetAndStoreTokens(httpContext);
            if (tokens.RequestToken is not null && tokens.HeaderName is not null)
            {
                json.Append(", \"antiforgery\": {\"header\": \"").Append(javaScriptEncoder.Encode(tokens.HeaderName))
                    .Append("\", \"token\": \"").Append(javaScriptEncoder.Encode(tokens.RequestToken)).Append("\"}");
            }
        }

        return json.Append('}').ToString();
    }

    private static TagBuilder External(string? nonce, PathString src)
    {
        var script = new TagBuilder("script");
        script.Attributes["src"] = src.ToUriComponent();
        AddNonce(script, nonce);
        return script;
    }

    private static TagBuilder Inline(string? nonce, string code)
    {
        var script = new TagBuilder("script");
        AddNonce(script, nonce);
        script.InnerHtml.AppendHtml(code);
        return script;
    }

    private static void AddNonce(TagBuilder script, string? nonce)
    {
        if (!string.IsNullOrEmpty(nonce))
        {
            script.Attributes["nonce"] = nonce;
        }
    }
}
