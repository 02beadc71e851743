namespace Comety.Internal;

/// <summary>What a <c>&lt;comety-script&gt;</c> or the view component asks to render, before checks.</summary>
internal sealed class CometyScriptSettings
{
    public string ApiName { get; set; } = "comety";

    public string JQueryName { get; set; } = "jQuery";

    public bool RenderApi { get; set; } = true;

    public bool RenderTiming { get; set; } = true;

    public bool AutoStart { get; set; }

    public bool IncludeJQuery { get; set; }

    public string? Url { get; set; }

    public double? TimeoutSeconds { get; set; }

    public string? Nonce { get; set; }

    public long? Confirm { get; set; }
}
