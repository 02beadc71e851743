using Microsoft.AspNetCore.Routing;

namespace Comety.Tests.Razor.Infrastructure;

/// <summary>
/// A router for the real <c>UrlHelper</c> that records the values it is asked to link to and
/// answers <c>/{controller}/{action}</c> with the other values in the query, or no route at all.
/// </summary>
internal sealed class RecordingRouter : IRouter
{
    public List<RouteValueDictionary> Requests { get; } = [];

    /// <summary>Whether the router pretends that no route matches.</summary>
    public bool NoRoute { get; set; }

    public VirtualPathData? GetVirtualPath(VirtualPathContext context)
    {
        Requests.Add(new RouteValueDictionary(context.Values));
        if (NoRoute)
        {
            return null;
        }

        var others = context.Values
            .Where(static pair => pair.Key is not ("controller" or "action"))
            .OrderBy(static pair => pair.Key, StringComparer.Ordinal)
            .Select(static pair => $"{pair.Key}={pair.Value}");
        var query = string.Join('&', others);
        return new VirtualPathData(this, $"/{context.Values["controller"]}/{context.Values["action"]}{(query.Length == 0 ? "" : "?" + query)}");
    }

    public Task RouteAsync(RouteContext context) => Task.CompletedTask;
}
