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

    /// <summary>The user whose events so far are confirmed once every other setting has been checked.</summary>
    public string? ConfirmUser { get; set; }

    /// <summary>The dispatcher that confirms; the application's when null.</summary>
    public Dispatcher? Dispatcher { get; set; }
}
