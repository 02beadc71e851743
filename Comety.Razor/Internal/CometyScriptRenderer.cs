using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Html;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
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

    /// <summary>The transport comety.js uses when none is given.</summary>
    public const string DefaultTransport = "auto";

    private static readonly string[] Transports = [DefaultTransport, "stream", "poll"];

    /// <summary>
    /// Checks every setting, then renders. The page's first poll resumes from its position: the
    /// one given (read with the page's data), or the dispatcher's last sequence number now.
    /// </summary>
    public Task<IHtmlContent> RenderAsync(HttpContext httpContext, CometyScriptSettings settings)
    {
        var jqueryName = JavaScriptIdentifier.Validate(settings.JQueryName, "jquery-name");
        var apiName = ValidateApiName(settings.ApiName, jqueryName, "api-name");
        var timeout = ValidateTimeout(settings.TimeoutSeconds ?? options.Value.ClientTimeout.TotalSeconds, options.Value.MaxClientTimeout);
        var transport = ValidateTransport(CometyScriptSettings.Given(settings.Transport), "transport");

        if (settings.RenderApi && string.IsNullOrEmpty(settings.Url))
        {
            throw new InvalidOperationException("<comety-script> needs the updates URL: set 'url', or 'asp-controller' and 'asp-action'.");
        }

        long? confirm = null;
        if (settings.RenderApi)
        {
            // Reading the position needs no registered user: a signed-out page, or one whose user
            // timed out, renders as well as any other.
            var dispatcher = settings.Dispatcher ?? httpContext.RequestServices.GetService<CometyDispatcher>();
            confirm = settings.ResumeAfter ?? dispatcher?.LastSequence;
            if (confirm is < 0 || (dispatcher is not null && confirm > dispatcher.LastSequence))
            {
                throw new InvalidOperationException($"resume-after is {confirm}, but it must be a position the dispatcher issued, from 0 to {dispatcher?.LastSequence}: read CometyDispatcher.LastSequence with the page's data.");
            }

            if (confirm is { } position)
            {
                // Until the page's first poll, no inbox lets go of what came after its position.
                dispatcher?.NotePageRendered(position);
            }
        }
        else if (settings.ResumeAfter is not null)
        {
            // The position would be lost: only the rendered API resumes from it.
            throw new InvalidOperationException("resume-after needs render-api: the API it renders is what resumes the first poll from the position.");
        }

        var content = new HtmlContentBuilder();
        var pathBase = httpContext.Request.PathBase;
        if (settings.RenderTiming)
        {
            // Keeps an earlier mark: an early element in <head> starts the timing, the main one's
            // snippet (rendered by default) must not restart it.
            content.AppendHtml(Inline(settings.Nonce, $"window.CometyTiming = window.CometyTiming || {{}}; window.CometyTiming.{apiName} = window.CometyTiming.{apiName} || Date.now();"));
        }

        if (settings.IncludeJQuery)
        {
            // The application's HTML encoder, as the rest of the page is written with (MVC registers it).
            var htmlEncoder = httpContext.RequestServices.GetService<HtmlEncoder>() ?? HtmlEncoder.Default;
            content.AppendHtml(Inline(settings.Nonce, JQueryIfMissing(settings.Nonce, pathBase.Add(JQueryPath), htmlEncoder)));
        }

        if (settings.RenderApi)
        {
            // typeof, not the bare name: without jQuery the bare name is a ReferenceError that hides
            // comety.js's own message, and window[name] would miss a top-level let or const.
            content.AppendHtml(External(settings.Nonce, VersionedScriptUrl(httpContext)));
            content.AppendHtml(Inline(settings.Nonce, $"var {apiName} = Comety.create(typeof {jqueryName} === \"undefined\" ? undefined : {jqueryName}, {Settings(httpContext, settings, apiName, timeout, transport, confirm)});"));
        }

        return Task.FromResult<IHtmlContent>(content);
    }

    // comety.js's URL with its content hash (?v=…), as asp-append-version writes it, so that a browser
    // never runs a stale comety.js after an upgrade: MVC's file version provider hashes the file in the
    // web root, static web assets included. Without the provider, or where it finds no file, the plain URL.
    private static string VersionedScriptUrl(HttpContext httpContext)
    {
        var pathBase = httpContext.Request.PathBase;
        var src = pathBase.Add(ScriptPath).ToUriComponent();
        return httpContext.RequestServices.GetService<IFileVersionProvider>() is { } versions
            ? versions.AddFileVersionToPath(pathBase, src)
            : src;
    }

    private static string ValidateApiName(string? name, string jqueryName, string attribute)
    {
        var apiName = JavaScriptIdentifier.Validate(name, attribute);
        if (apiName == jqueryName || apiName is "Comety" or "CometyTiming")
        {
            // The API's variable would replace jQuery, or comety.js's own globals, for the rest of the page.
            throw new ArgumentException($"'{apiName}' cannot be the {attribute}: it is the jquery-name or a global of comety.js (Comety, CometyTiming).", attribute);
        }

        return apiName;
    }

    private static double ValidateTimeout(double timeout, TimeSpan maxClientTimeout)
    {
        if (!double.IsFinite(timeout) || timeout <= 0 || timeout > maxClientTimeout.TotalSeconds)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, $"The timeout must be greater than 0 and at most {maxClientTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds (Comety:MaxClientTimeout).");
        }

        return timeout;
    }

    // One of the three names comety.js knows, checked here so that a typo fails as the page renders
    // rather than in the browser, where startUpdates would refuse it.
    private static string ValidateTransport(string? transport, string attribute)
    {
        if (transport is null)
        {
            return DefaultTransport;
        }

        return Array.IndexOf(Transports, transport) >= 0
            ? transport
            : throw new ArgumentException($"'{transport}' is not a transport for {attribute}: use 'auto' (stream, and long-poll where streams do not get through), 'stream' or 'poll'.", attribute);
    }

    private string Settings(HttpContext httpContext, CometyScriptSettings settings, string apiName, double timeout, string transport, long? confirm)
    {
        var json = new StringBuilder("{");
        json.Append("\"name\": \"").Append(apiName).Append('"');
        json.Append(", \"url\": \"").Append(javaScriptEncoder.Encode(settings.Url!)).Append('"');
        json.Append(", \"timeout\": ").Append(timeout.ToString("R", CultureInfo.InvariantCulture));
        json.Append(", \"autoStart\": ").Append(settings.AutoStart ? "true" : "false");
        if (transport != DefaultTransport)
        {
            // One of three fixed names (validated above): nothing to encode.
            json.Append(", \"transport\": \"").Append(transport).Append('"');
        }
        if (confirm is not null)
        {
            json.Append(", \"confirm\": ").Append(confirm.Value.ToString(CultureInfo.InvariantCulture));
        }

        if (!settings.ShareTabs)
        {
            json.Append(", \"shareTabs\": false");
        }
        else if (CometyScriptSettings.Given(settings.ShareAs) is { } userId)
        {
            // An opaque tag (base64url, nothing to encode), never the user id: tabs with the same tag and URL share.
            var secret = httpContext.RequestServices.GetService<TabSharingSecret>() ?? TabSharingSecret.Shared;
            json.Append(", \"shareKey\": \"").Append(secret.TagOf(userId, settings.Url!)).Append('"');
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

    // Loads Comety's jQuery only when the page has none: a second jQuery would replace the page's
    // window.jQuery and $, and the plugins (jquery-validation, say) registered on it. document.write,
    // because only a parser-inserted script runs before comety.js and the line that creates the API;
    // the element it writes is the HTML of an external script (attributes HTML-encoded, nonce
    // included, since a Content-Security-Policy nonce covers no script a page writes without one),
    // JavaScript-encoded as a whole, so that no value can end the string or the script element.
    private string JQueryIfMissing(string? nonce, PathString src, HtmlEncoder htmlEncoder)
    {
        using var html = new StringWriter(CultureInfo.InvariantCulture);
        var script = External(nonce, src);
        script.RenderStartTag().WriteTo(html, htmlEncoder);

        // The end tag as JavaScript escapes, so that "</script" never appears in this script's text.
        return $"if (typeof window.jQuery === \"undefined\") {{ document.write(\"{javaScriptEncoder.Encode(html.ToString())}\" + \"\\u003C/script\\u003E\"); }}";
    }

    private static TagBuilder External(string? nonce, PathString src) => External(nonce, src.ToUriComponent());

    private static TagBuilder External(string? nonce, string src)
    {
        var script = new TagBuilder("script");
        script.Attributes["src"] = src;
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
