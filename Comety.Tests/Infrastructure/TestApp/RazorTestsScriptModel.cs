namespace Comety.Tests.Infrastructure.TestApp;

/// <summary>
/// The settings a <c>/razor-tests/parity</c> page renders three ways: with <c>&lt;comety-script&gt;</c>,
/// <c>Component.InvokeAsync</c> and <c>&lt;vc:comety-script&gt;</c>. Bound from the query string.
/// </summary>
public sealed class RazorTestsScriptModel
{
    public string? Url { get; set; }

    public string? Controller { get; set; }

    public string? Action { get; set; }

    /// <summary>The <c>room</c> route value (<c>asp-route-room</c>, or the view component's <c>routeValues</c>).</summary>
    public string? Room { get; set; }

    public string ApiName { get; set; } = "comety";

    public string JQueryName { get; set; } = "jQuery";

    public bool RenderApi { get; set; } = true;

    public bool RenderTiming { get; set; } = true;

    public bool AutoStart { get; set; }

    public double? Timeout { get; set; }

    public bool IncludeJQuery { get; set; }

    public string? Nonce { get; set; }

    public long? ResumeAfter { get; set; }

    public string? Transport { get; set; }
}
