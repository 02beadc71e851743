namespace Comety.Internal;

/// <summary>What a <c>&lt;comety-script&gt;</c> or the view component asks to render, before checks.</summary>
internal sealed class CometyScriptSettings
{
    /// <summary>
    /// Reads an optional attribute: Razor writes <c>url="@value"</c> with a null value as the empty
    /// string, so both mean "not given".
    /// </summary>
    public static string? Given(string? value) => string.IsNullOrEmpty(value) ? null : value;

    public string ApiName { get; set; } = "comety";

    public string JQueryName { get; set; } = "jQuery";

    public bool RenderApi { get; set; } = true;

    public bool RenderTiming { get; set; } = true;

    public bool AutoStart { get; set; }

    public bool IncludeJQuery { get; set; }

    public string? Url { get; set; }

    public double? TimeoutSeconds { get; set; }

    public string? Nonce { get; set; }

    /// <summary>How the page receives events: <c>auto</c>, <c>stream</c> or <c>poll</c>; <c>auto</c> when null.</summary>
    public string? Transport { get; set; }

    /// <summary>The page's position, read with its data; read at render when null.</summary>
    public long? ResumeAfter { get; set; }

    /// <summary>The page's user id, which keys the tabs that share one connection (as an opaque tag); none share without it.</summary>
    public string? ShareAs { get; set; }

    /// <summary>Whether tabs may share one connection (with <see cref="ShareAs"/>).</summary>
    public bool ShareTabs { get; set; } = true;

    /// <summary>The dispatcher the position is read from; the application's when null.</summary>
    public CometyDispatcher? Dispatcher { get; set; }
}
