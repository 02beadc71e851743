using System.Text.Encodings.Web;
using Comety.Tests.Razor.Infrastructure;
using Microsoft.AspNetCore.Antiforgery;

namespace Comety.Tests.Razor;

/// <summary>
/// Attribute values written to break out of the script. These tests render with the real encoders,
/// as an application does: the test encoders only mark what was encoded, they do not escape anything.
/// </summary>
public sealed class CometyScriptEncodingTests : IDisposable
{
    private readonly ScriptHarness _harness = new() { JavaScriptEncoder = JavaScriptEncoder.Default, HtmlEncoder = HtmlEncoder.Default };

    public static TheoryData<string> HostileValues =>
    [
        "\"; alert(1); //",
        "'; alert(1); //",
        "</script><script>alert(1)</script>",
        "</SCRIPT ><img src=x onerror=alert(1)>",
        "<!--<script>",
        "--> alert(1)",
        "line\u2028separator\u2029paragraph",
        "back\\slash\\\"quote\\",
        "\"><script>alert(1)</script>",
        "&lt;/script&gt;",
        "new\nline\r\ttab\0nul",
    ];

    public void Dispose() => _harness.Dispose();

    [Theory]
    [MemberData(nameof(HostileValues))]
    public async Task Hostile_url_is_javascript_encoded_and_cannot_close_the_script(string url)
    {
        var rendered = await _harness.RenderAsync(tag => tag.Url = url);

        rendered.AssertOnlyScripts(3);
        AssertSafeScriptText(rendered.CreateScript.Text);
        Assert.Equal(url, rendered.Settings.GetProperty("url").GetString());
    }

    [Theory]
    [MemberData(nameof(HostileValues))]
    public async Task Hostile_nonce_is_attribute_encoded_on_every_script_element(string nonce)
    {
        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.IncludeJQuery = true;
            tag.Nonce = nonce;
        });

        rendered.AssertOnlyScripts(4);
        // HTML reads a NUL character reference as U+FFFD: no encoder can carry a NUL through, nor needs to.
        Assert.All(rendered.Scripts, script => Assert.Equal(nonce.Replace('\0', '\uFFFD'), script.GetAttribute("nonce")));
        Assert.All(rendered.Scripts, script => Assert.Equal(1, script.Attributes.Length - (script.HasAttribute("src") ? 1 : 0)));

        // The jQuery element the page writes when it has none carries the nonce too, and the line
        // that writes it stays one JavaScript string.
        var written = Assert.Single(rendered.WrittenScripts);
        Assert.Equal(nonce.Replace('\0', '\uFFFD'), written.GetAttribute("nonce"));
        Assert.Equal(["nonce", "src"], written.Attributes.Select(attribute => attribute.Name).Order(StringComparer.Ordinal));
        AssertSafeScriptText(rendered.Scripts[rendered.Kinds.ToList().FindIndex(kind => kind.StartsWith("if-no-jquery", StringComparison.Ordinal))].Text);
    }

    [Theory]
    [MemberData(nameof(HostileValues))]
    public async Task Hostile_antiforgery_token_and_header_name_are_javascript_encoded(string value)
    {
        _harness.Antiforgery = new FixedAntiforgery(new AntiforgeryTokenSet(value, "cookie", "field", value));

        var rendered = await _harness.RenderAsync(tag => tag.Url = "/chat/updates");

        rendered.AssertOnlyScripts(3);
        AssertSafeScriptText(rendered.CreateScript.Text);
        var antiforgery = rendered.Settings.GetProperty("antiforgery");
        Assert.Equal(value, antiforgery.GetProperty("token").GetString());
        Assert.Equal(value, antiforgery.GetProperty("header").GetString());
    }

    [Fact]
    public async Task Every_hostile_value_at_once_still_gives_four_whole_script_elements()
    {
        const string Hostile = "</script><!--<script>\"'\\\u2028-->";
        _harness.Antiforgery = new FixedAntiforgery(new AntiforgeryTokenSet(Hostile, "cookie", "field", Hostile));

        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = Hostile;
            tag.Nonce = Hostile;
            tag.IncludeJQuery = true;
        });

        rendered.AssertOnlyScripts(4);
        Assert.Equal(
            [
                "timing comety",
                "if-no-jquery src /_content/Comety.Razor/lib/jquery/dist/jquery.min.js",
                "src /_content/Comety.Razor/comety.js",
                "create comety jQuery",
            ],
            rendered.Kinds);
        Assert.Contains(
            "\"url\": \"\\u003C/script\\u003E\\u003C!--\\u003Cscript\\u003E\\u0022\\u0027\\\\\\u2028--\\u003E\"",
            rendered.CreateScript.Text,
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("api-name", "x;alert(1)")]
    [InlineData("api-name", "1abc")]
    [InlineData("api-name", "a-b")]
    [InlineData("api-name", "var")]
    [InlineData("api-name", "let")]
    [InlineData("api-name", "undefined")]
    [InlineData("api-name", "")]
    [InlineData("api-name", null)]
    [InlineData("api-name", "window.foo")]
    [InlineData("api-name", "</script>")]
    [InlineData("api-name", " comety")]
    [InlineData("api-name", "comety\u2028")]
    [InlineData("api-name", "caf\u00e9")]
    [InlineData("jquery-name", "x;alert(1)")]
    [InlineData("jquery-name", "1abc")]
    [InlineData("jquery-name", "a-b")]
    [InlineData("jquery-name", "var")]
    [InlineData("jquery-name", "")]
    [InlineData("jquery-name", null)]
    [InlineData("jquery-name", "window.jQuery")]
    [InlineData("jquery-name", "jQuery()")]
    public async Task A_name_that_is_not_a_plain_javascript_identifier_is_rejected_naming_the_attribute(string attribute, string? name)
    {
        var tagHelper = _harness.CreateTagHelper();
        tagHelper.Url = "/chat/updates";
        if (attribute == "api-name")
        {
            tagHelper.ApiName = name!;
        }
        else
        {
            tagHelper.JQueryName = name!;
        }

        var error = await Assert.ThrowsAsync<ArgumentException>(() => _harness.RenderAsync(tagHelper));

        Assert.Equal(attribute, error.ParamName);
        Assert.Contains(attribute, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_name_longer_than_a_hundred_characters_is_rejected()
    {
        var tagHelper = _harness.CreateTagHelper();
        tagHelper.Url = "/chat/updates";
        tagHelper.ApiName = new string('a', 101);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => _harness.RenderAsync(tagHelper));

        Assert.Equal("api-name", error.ParamName);
    }

    [Theory]
    [InlineData("jQuery", "jQuery")]
    [InlineData("$", "$")]
    [InlineData("Comety", "jQuery")]
    [InlineData("CometyTiming", "jQuery")]
    public async Task An_api_name_that_would_replace_jQuery_or_a_global_of_comety_js_is_rejected(string apiName, string jqueryName)
    {
        var tagHelper = _harness.CreateTagHelper();
        tagHelper.Url = "/chat/updates";
        tagHelper.ApiName = apiName;
        tagHelper.JQueryName = jqueryName;

        var error = await Assert.ThrowsAsync<ArgumentException>(() => _harness.RenderAsync(tagHelper));

        Assert.Equal("api-name", error.ParamName);
        Assert.Contains($"'{apiName}'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(300.001)]
    public async Task A_timeout_that_is_not_positive_finite_and_at_most_the_max_client_timeout_is_rejected(double timeout)
    {
        var tagHelper = _harness.CreateTagHelper();
        tagHelper.Url = "/chat/updates";
        tagHelper.Timeout = timeout;

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _harness.RenderAsync(tagHelper));

        Assert.Equal("timeout", error.ParamName);
        Assert.Contains("at most 300 seconds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_default_timeout_above_the_max_client_timeout_is_rejected_too()
    {
        _harness.Options.ClientTimeout = TimeSpan.FromSeconds(90);
        _harness.Options.MaxClientTimeout = TimeSpan.FromSeconds(60);
        var tagHelper = _harness.CreateTagHelper();
        tagHelper.Url = "/chat/updates";

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _harness.RenderAsync(tagHelper));

        Assert.Equal("timeout", error.ParamName);
        Assert.Contains("at most 60 seconds", error.Message, StringComparison.Ordinal);
    }

    // What a browser's JavaScript parser must not meet inside the script's one string literal.
    private static void AssertSafeScriptText(string text)
    {
        Assert.DoesNotContain('<', text);
        Assert.DoesNotContain('\u2028', text);
        Assert.DoesNotContain('\u2029', text);
        Assert.DoesNotContain('\n', text);
        Assert.DoesNotContain('\r', text);
        Assert.DoesNotContain('\'', text);
    }
}
