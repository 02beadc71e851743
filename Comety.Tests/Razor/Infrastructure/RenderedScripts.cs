using System.Text.Json;
using System.Text.RegularExpressions;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;

namespace Comety.Tests.Razor.Infrastructure;

/// <summary>
/// What <c>&lt;comety-script&gt;</c> or the view component wrote, as a browser's parser sees it:
/// the script elements in order, each described by its kind, and the settings the API is created with.
/// </summary>
internal sealed partial class RenderedScripts
{
    private RenderedScripts(string html, IHtmlDocument document, IReadOnlyList<IHtmlScriptElement> scripts)
    {
        Html = html;
        Document = document;
        Scripts = scripts;
    }

    /// <summary>The markup exactly as written.</summary>
    public string Html { get; }

    public IHtmlDocument Document { get; }

    public IReadOnlyList<IHtmlScriptElement> Scripts { get; }

    /// <summary>
    /// Each script element in order: <c>timing {api}</c>, <c>src {src}</c>, <c>create {api} {jquery}</c>,
    /// <c>if-no-jquery src {src}</c> for the line that writes a jQuery script element when the page
    /// has none, or <c>unknown {text}</c> for an inline script that is none of Comety's lines.
    /// </summary>
    public IReadOnlyList<string> Kinds => Scripts.Select(Kind).ToList();

    public IHtmlScriptElement CreateScript => Assert.Single(Scripts, script => CreatePattern().IsMatch(script.Text));

    /// <summary>The object literal the API is created with, read as JSON (what the encoder wrote must be valid JSON too).</summary>
    public JsonElement Settings
    {
        get
        {
            var match = CreatePattern().Match(CreateScript.Text);
            using var json = JsonDocument.Parse(match.Groups["settings"].Value);
            return json.RootElement.Clone();
        }
    }

    /// <summary>
    /// The script elements the <c>if-no-jquery</c> lines would write, as a browser would parse them
    /// once JavaScript has decoded the written string (the test encoder's markers are taken off as written).
    /// </summary>
    public IReadOnlyList<IHtmlScriptElement> WrittenScripts =>
        [.. Scripts.Select(static script => WrittenScript(script.Text)).OfType<IHtmlScriptElement>()];

    public static RenderedScripts Parse(string html)
    {
        var document = new HtmlParser().ParseDocument(html);
        return new RenderedScripts(html, document, document.QuerySelectorAll("script").OfType<IHtmlScriptElement>().ToList());
    }

    /// <summary>The script elements inside one element of a parsed page.</summary>
    public static RenderedScripts Within(AngleSharp.Dom.IElement container) =>
        new(container.InnerHtml, (IHtmlDocument)container.Owner!, container.QuerySelectorAll("script").OfType<IHtmlScriptElement>().ToList());

    /// <summary>
    /// Asserts that the markup is script elements and nothing else, each closed by its own end tag:
    /// no value ended a script early, and nothing leaked out between or after them.
    /// </summary>
    public void AssertOnlyScripts(int count)
    {
        Assert.Equal(count, Scripts.Count);
        Assert.Empty(Document.Body!.ChildNodes);
        Assert.All(Document.Head!.ChildNodes, node => Assert.IsAssignableFrom<IHtmlScriptElement>(node));
        Assert.Equal(count, ScriptEndTag().Count(Html));
        Assert.All(Scripts, script => Assert.DoesNotContain("</script", script.Text, StringComparison.OrdinalIgnoreCase));
    }

    private static string Kind(IHtmlScriptElement script)
    {
        if (script.HasAttribute("src"))
        {
            return "src " + script.GetAttribute("src");
        }

        if (TimingPattern().Match(script.Text) is { Success: true } timing)
        {
            return "timing " + timing.Groups["api"].Value;
        }

        if (CreatePattern().Match(script.Text) is { Success: true } create)
        {
            return $"create {create.Groups["api"].Value} {create.Groups["jquery"].Value}";
        }

        if (WrittenScript(script.Text) is { } written)
        {
            return "if-no-jquery src " + written.GetAttribute("src");
        }

        return "unknown " + script.Text;
    }

    private static IHtmlScriptElement? WrittenScript(string text)
    {
        if (IfNoJQueryPattern().Match(text) is not { Success: true } match)
        {
            return null;
        }

        // The real encoder writes \uXXXX escapes, which a JSON string reads the way JavaScript does.
        var encoded = match.Groups["tag"].Value;
        var html = TestEncoderMarkers().Match(encoded) is { Success: true } marked
            ? marked.Groups["inner"].Value
            : JsonSerializer.Deserialize<string>($"\"{encoded}\"")!;
        var written = new HtmlParser().ParseDocument(html + "</script>");
        return written.QuerySelectorAll("script").OfType<IHtmlScriptElement>().Single();
    }

    [GeneratedRegex(@"^window\.CometyTiming = window\.CometyTiming \|\| \{\}; window\.CometyTiming\.(?<api>[A-Za-z_$][A-Za-z0-9_$]*) = window\.CometyTiming\.\k<api> \|\| Date\.now\(\);$")]
    private static partial Regex TimingPattern();

    [GeneratedRegex(@"^var (?<api>[A-Za-z_$][A-Za-z0-9_$]*) = Comety\.create\(typeof (?<jquery>[A-Za-z_$][A-Za-z0-9_$]*) === ""undefined"" \? undefined : \k<jquery>, (?<settings>\{.*\})\);$", RegexOptions.Singleline)]
    private static partial Regex CreatePattern();

    [GeneratedRegex(@"^if \(typeof window\.jQuery === ""undefined""\) \{ document\.write\(""(?<tag>.*)"" \+ ""\\u003C/script\\u003E""\); \}$", RegexOptions.Singleline)]
    private static partial Regex IfNoJQueryPattern();

    [GeneratedRegex(@"^JavaScriptEncode\[\[(?<inner>.*)\]\]$", RegexOptions.Singleline)]
    private static partial Regex TestEncoderMarkers();

    [GeneratedRegex("</script", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptEndTag();
}
