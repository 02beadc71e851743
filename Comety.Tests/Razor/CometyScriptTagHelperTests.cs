using System.Globalization;
using System.Text.Json;
using Comety.Tests.Infrastructure;
using Comety.Tests.Razor.Infrastructure;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.DependencyInjection;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Razor;

/// <summary>
/// <c>&lt;comety-script&gt;</c> rendered directly, with the test encoders: <c>HtmlEncode[[…]]</c> marks
/// what went through the HTML encoder (attributes), <c>JavaScriptEncode[[…]]</c> what went through the
/// JavaScript encoder (strings in the script).
/// </summary>
public sealed class CometyScriptTagHelperTests : IDisposable
{
    private const string CometyJs = "src HtmlEncode[[/_content/Comety.Razor/comety.js]]";
    private const string JQueryJs = "if-no-jquery src HtmlEncode[[/_content/Comety.Razor/lib/jquery/dist/jquery.min.js]]";

    private readonly ScriptHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task By_default_it_renders_the_timing_snippet_comety_js_and_an_api_named_comety_on_jQuery()
    {
        var rendered = await _harness.RenderAsync(tag => tag.Url = "/chat/updates");

        rendered.AssertOnlyScripts(3);
        Assert.Equal(["timing comety", CometyJs, "create comety jQuery"], rendered.Kinds);
        Assert.Equal(
            """var comety = Comety.create(typeof jQuery === "undefined" ? undefined : jQuery, {"name": "comety", "url": "JavaScriptEncode[[/chat/updates]]", "timeout": 10, "autoStart": false});""",
            rendered.CreateScript.Text);
        Assert.All(rendered.Scripts, script => Assert.False(script.HasAttribute("nonce")));
    }

    [Fact]
    public async Task It_replaces_its_own_element_with_the_script_elements()
    {
        var tagHelper = _harness.CreateTagHelper();
        tagHelper.Url = "/chat/updates";

        var rendered = await _harness.RenderAsync(tagHelper);

        Assert.Null(rendered.Document.QuerySelector("comety-script"));
        Assert.StartsWith("<script>", rendered.Html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, true, false, new[] { "timing comety", CometyJs, "create comety jQuery" })]
    [InlineData(true, true, true, new[] { "timing comety", JQueryJs, CometyJs, "create comety jQuery" })]
    [InlineData(true, false, false, new[] { CometyJs, "create comety jQuery" })]
    [InlineData(true, false, true, new[] { JQueryJs, CometyJs, "create comety jQuery" })]
    [InlineData(false, true, false, new[] { "timing comety" })]
    [InlineData(false, true, true, new[] { "timing comety", JQueryJs })]
    [InlineData(false, false, false, new string[0])]
    [InlineData(false, false, true, new[] { JQueryJs })]
    public async Task Render_api_render_timing_and_include_jquery_choose_the_script_elements_and_their_order(
        bool renderApi, bool renderTiming, bool includeJQuery, string[] expected)
    {
        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.RenderApi = renderApi;
            tag.RenderTiming = renderTiming;
            tag.IncludeJQuery = includeJQuery;
        });

        rendered.AssertOnlyScripts(expected.Length);
        Assert.Equal(expected, rendered.Kinds);
    }

    [Fact]
    public async Task Api_name_and_jquery_name_name_the_variables_of_both_snippets_and_the_api()
    {
        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.ApiName = "chat";
            tag.JQueryName = "$";
        });

        Assert.Equal(["timing chat", CometyJs, "create chat $"], rendered.Kinds);
        Assert.Equal("chat", rendered.Settings.GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("_")]
    [InlineData("$jq")]
    [InlineData("Chat_API2")]
    public async Task Plain_identifiers_are_accepted_as_names(string name)
    {
        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.ApiName = name;
            tag.JQueryName = name + "Q";
        });

        Assert.Equal([$"timing {name}", CometyJs, $"create {name} {name}Q"], rendered.Kinds);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Auto_start_is_passed_to_the_api(bool autoStart)
    {
        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.AutoStart = autoStart;
        });

        Assert.Equal(autoStart, rendered.Settings.GetProperty("autoStart").GetBoolean());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("auto")]
    public async Task The_default_transport_auto_is_not_written(string? transport)
    {
        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.Transport = transport;
        });

        Assert.False(rendered.Settings.TryGetProperty("transport", out _));
    }

    [Theory]
    [InlineData("stream")]
    [InlineData("poll")]
    public async Task A_transport_other_than_auto_is_passed_to_the_api(string transport)
    {
        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.Transport = transport;
        });

        Assert.Equal(transport, rendered.Settings.GetProperty("transport").GetString());
        Assert.Contains($"\"autoStart\": false, \"transport\": \"{transport}\"", rendered.CreateScript.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Stream")]
    [InlineData("sse")]
    [InlineData(" poll")]
    [InlineData("poll\"});alert(1);//")]
    public async Task A_transport_comety_js_does_not_know_is_rejected_naming_the_attribute(string transport)
    {
        var tagHelper = _harness.CreateTagHelper();
        tagHelper.Url = "/chat/updates";
        tagHelper.Transport = transport;

        var error = await Assert.ThrowsAsync<ArgumentException>(() => _harness.RenderAsync(tagHelper));

        Assert.Equal("transport", error.ParamName);
        Assert.Contains("'auto'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{transport}' is not a transport for transport", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_timeout_defaults_to_the_client_timeout_option()
    {
        _harness.Options.ClientTimeout = TimeSpan.FromSeconds(7.5);

        var rendered = await _harness.RenderAsync(tag => tag.Url = "/chat/updates");

        Assert.Equal(7.5, rendered.Settings.GetProperty("timeout").GetDouble());
    }

    [Fact]
    public async Task An_explicit_timeout_overrides_the_client_timeout_option()
    {
        _harness.Options.ClientTimeout = TimeSpan.FromSeconds(7.5);

        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.Timeout = 2.5;
        });

        Assert.Equal(2.5, rendered.Settings.GetProperty("timeout").GetDouble());
    }

    [Fact]
    public async Task The_timeout_is_written_with_a_decimal_point_whatever_the_culture()
    {
        var culture = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = new CultureInfo("de-DE");
        try
        {
            var rendered = await _harness.RenderAsync(tag =>
            {
                tag.Url = "/chat/updates";
                tag.Timeout = 2.5;
            });

            Assert.Contains("\"timeout\": 2.5,", rendered.CreateScript.Text, StringComparison.Ordinal);
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    [Fact]
    public async Task A_timeout_of_exactly_the_max_client_timeout_is_allowed()
    {
        _harness.Options.MaxClientTimeout = TimeSpan.FromSeconds(60);

        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.Timeout = 60;
        });

        Assert.Equal(60, rendered.Settings.GetProperty("timeout").GetDouble());
    }

    [Fact]
    public async Task A_literal_url_is_used_as_given_and_no_route_is_asked_for()
    {
        var rendered = await _harness.RenderAsync(tag => tag.Url = "https://push.example.com/chat/updates?room=1");

        Assert.Equal("JavaScriptEncode[[https://push.example.com/chat/updates?room=1]]", rendered.Settings.GetProperty("url").GetString());
        Assert.Empty(_harness.Router.Requests);
    }

    [Fact]
    public async Task Asp_controller_asp_action_and_asp_route_values_make_the_url_with_the_url_helper()
    {
        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Controller = "ChatUpdates";
            tag.Action = "Poll";
            tag.RouteValues["room"] = "lobby";
            tag.RouteValues["page"] = "2";
        });

        var values = Assert.Single(_harness.Router.Requests);
        Assert.Equal(
            [("action", "Poll"), ("controller", "ChatUpdates"), ("page", "2"), ("room", "lobby")],
            values.Select(pair => (pair.Key, pair.Value as string)).OrderBy(pair => pair.Key, StringComparer.Ordinal));
        Assert.Equal("JavaScriptEncode[[/ChatUpdates/Poll?page=2&room=lobby]]", rendered.Settings.GetProperty("url").GetString());
    }

    [Fact]
    public async Task Asp_controller_alone_links_to_its_Updates_action()
    {
        var rendered = await _harness.RenderAsync(tag => tag.Controller = "ChatUpdates");

        Assert.Equal("Updates", Assert.Single(_harness.Router.Requests)["action"]);
        Assert.Equal("JavaScriptEncode[[/ChatUpdates/Updates]]", rendered.Settings.GetProperty("url").GetString());
    }

    [Fact]
    public async Task Asp_action_alone_links_to_the_current_controller()
    {
        _harness.AmbientValues["controller"] = "Chat";

        var rendered = await _harness.RenderAsync(tag => tag.Action = "Updates");

        Assert.Equal("Chat", Assert.Single(_harness.Router.Requests)["controller"]);
        Assert.Equal("JavaScriptEncode[[/Chat/Updates]]", rendered.Settings.GetProperty("url").GetString());
    }

    [Fact]
    public async Task Asp_route_values_alone_link_to_the_Updates_action_of_the_current_controller()
    {
        _harness.AmbientValues["controller"] = "Chat";

        var rendered = await _harness.RenderAsync(tag => tag.RouteValues["room"] = "lobby");

        Assert.Equal("JavaScriptEncode[[/Chat/Updates?room=lobby]]", rendered.Settings.GetProperty("url").GetString());
    }

    [Fact]
    public async Task Under_a_path_base_the_script_paths_and_the_routed_url_carry_it()
    {
        _harness.PathBase = "/app";

        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Controller = "ChatUpdates";
            tag.IncludeJQuery = true;
        });

        Assert.Equal(
            [
                "timing comety",
                "if-no-jquery src HtmlEncode[[/app/_content/Comety.Razor/lib/jquery/dist/jquery.min.js]]",
                "src HtmlEncode[[/app/_content/Comety.Razor/comety.js]]",
                "create comety jQuery",
            ],
            rendered.Kinds);
        Assert.Equal("JavaScriptEncode[[/app/ChatUpdates/Updates]]", rendered.Settings.GetProperty("url").GetString());
    }

    [Fact]
    public async Task A_url_together_with_asp_controller_is_rejected_rather_than_one_being_ignored()
    {
        var tagHelper = _harness.CreateTagHelper();
        tagHelper.Url = "/chat/updates";
        tagHelper.Controller = "ChatUpdates";

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _harness.RenderAsync(tagHelper));

        Assert.Contains("'url'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'asp-controller'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Empty_url_controller_and_action_mean_not_given_as_razor_writes_null_values()
    {
        using var dispatcher = new CometyDispatcher();
        _harness.Dispatcher = dispatcher;

        var routed = await _harness.RenderAsync(tag =>
        {
            tag.Url = "";
            tag.Controller = "ChatUpdates";
            tag.Action = "";
        });
        var literal = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.Controller = "";
            tag.Action = "";
        });

        Assert.Equal("JavaScriptEncode[[/ChatUpdates/Updates]]", routed.Settings.GetProperty("url").GetString());
        Assert.Equal("JavaScriptEncode[[/chat/updates]]", literal.Settings.GetProperty("url").GetString());
        Assert.Single(_harness.Router.Requests);
    }

    [Fact]
    public async Task An_action_that_no_route_leads_to_is_rejected_naming_the_controller_and_action()
    {
        _harness.Router.NoRoute = true;
        var tagHelper = _harness.CreateTagHelper();
        tagHelper.Controller = "Missing";

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _harness.RenderAsync(tagHelper));

        Assert.Contains("'Missing'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'Updates'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_any_url_the_api_is_rejected_naming_the_attributes()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _harness.RenderAsync());

        Assert.Contains("'url'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'asp-controller'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_timing_snippet_alone_needs_no_url()
    {
        var rendered = await _harness.RenderAsync(tag => tag.RenderApi = false);

        rendered.AssertOnlyScripts(1);
        Assert.Equal(["timing comety"], rendered.Kinds);
    }

    [Fact]
    public async Task Every_script_element_carries_the_html_encoded_nonce()
    {
        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.IncludeJQuery = true;
            tag.Nonce = "r4nd0m";
        });

        rendered.AssertOnlyScripts(4);
        Assert.All(rendered.Scripts, script => Assert.Equal("HtmlEncode[[r4nd0m]]", script.GetAttribute("nonce")));
        Assert.Equal("HtmlEncode[[r4nd0m]]", Assert.Single(rendered.WrittenScripts).GetAttribute("nonce"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task Without_a_nonce_no_script_element_has_the_attribute(string? nonce)
    {
        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.IncludeJQuery = true;
            tag.Nonce = nonce;
        });

        rendered.AssertOnlyScripts(4);
        Assert.All(rendered.Scripts, script => Assert.False(script.HasAttribute("nonce")));
        Assert.False(Assert.Single(rendered.WrittenScripts).HasAttribute("nonce"));
    }

    [Fact]
    public async Task Include_jquery_writes_a_jquery_script_element_only_when_the_page_has_no_jquery()
    {
        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.IncludeJQuery = true;
        });

        // A page with its own jQuery (and plugins on it) keeps it: Comety's would replace window.jQuery.
        Assert.DoesNotContain(rendered.Scripts, script => script.HasAttribute("src") && script.GetAttribute("src")!.Contains("jquery", StringComparison.Ordinal));
        Assert.Equal(
            """if (typeof window.jQuery === "undefined") { document.write("JavaScriptEncode[[<script src="HtmlEncode[[/_content/Comety.Razor/lib/jquery/dist/jquery.min.js]]">]]" + "\u003C/script\u003E"); }""",
            rendered.Scripts[1].Text);
    }

    [Fact]
    public async Task The_timing_snippet_keeps_a_mark_an_earlier_snippet_set()
    {
        var rendered = await _harness.RenderAsync(tag => tag.RenderApi = false);

        Assert.Equal(
            "window.CometyTiming = window.CometyTiming || {}; window.CometyTiming.comety = window.CometyTiming.comety || Date.now();",
            Assert.Single(rendered.Scripts).Text);
    }

    [Fact]
    public async Task The_position_is_read_as_the_element_renders_when_no_resume_after_is_given()
    {
        using var dispatcher = new CometyDispatcher();
        _harness.Dispatcher = dispatcher;
        await dispatcher.RegisterUserAsync("ann").Bounded();
        for (var i = 0; i < 3; i++)
        {
            await dispatcher.BroadcastAsync("test", Args("chat")).Bounded();
        }

        var rendered = await _harness.RenderAsync(tag => tag.Url = "/chat/updates");

        Assert.Equal(3, rendered.Settings.GetProperty("confirm").GetInt64());
        Assert.Contains("\"autoStart\": false, \"confirm\": 3}", rendered.CreateScript.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resume_after_is_the_position_the_first_poll_confirms_and_takes_nothing_from_the_user()
    {
        using var dispatcher = new CometyDispatcher();
        _harness.Dispatcher = dispatcher;
        await dispatcher.RegisterUserAsync("ann").Bounded();
        await dispatcher.BroadcastAsync("test", Args("read with the data")).Bounded();
        var position = dispatcher.LastSequence;
        var between = await dispatcher.BroadcastAsync("test", Args("posted before the layout renders")).Bounded();

        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.ResumeAfter = position;
        });
        var firstPoll = await dispatcher.PollAsync("ann", rendered.Settings.GetProperty("confirm").GetInt64(), TimeSpan.Zero).Bounded();

        Assert.Equal(position, rendered.Settings.GetProperty("confirm").GetInt64());
        Assert.Equal([between!.Value], firstPoll.Sequences());
        Assert.Equal([between.Value], (await dispatcher.PollAsync("ann", position, TimeSpan.Zero).Bounded()).Sequences());
    }

    [Fact]
    public async Task Rendering_notes_the_pages_position_so_that_inboxes_keep_what_comes_after_it_until_it_polls()
    {
        using var dispatcher = new CometyDispatcher();
        _harness.Dispatcher = dispatcher;
        await dispatcher.RegisterUserAsync("ann").Bounded();
        await dispatcher.BroadcastAsync("test", Args("a")).Bounded();
        await dispatcher.BroadcastAsync("test", Args("b")).Bounded();
        var before = dispatcher.RenderedFloor;

        await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.ResumeAfter = 1;
        });

        Assert.Equal(long.MaxValue, before);
        Assert.Equal(1, dispatcher.RenderedFloor);
    }

    [Fact]
    public async Task The_position_needs_no_registered_user()
    {
        using var dispatcher = new CometyDispatcher();
        _harness.Dispatcher = dispatcher;

        var rendered = await _harness.RenderAsync(tag => tag.Url = "/chat/updates");

        Assert.Equal(0, rendered.Settings.GetProperty("confirm").GetInt64());
    }

    [Fact]
    public async Task The_dispatcher_attribute_gives_the_position_instead_of_the_applications_dispatcher()
    {
        var (application, other) = await _harness.TwoDispatchersAsync(otherEvents: 5);
        using var _ = application;
        using var __ = other;

        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.Dispatcher = other;
        });

        Assert.Equal(5, rendered.Settings.GetProperty("confirm").GetInt64());
    }

    [Fact]
    public async Task Without_a_dispatcher_no_position_is_written()
    {
        var rendered = await _harness.RenderAsync(tag => tag.Url = "/chat/updates");

        Assert.False(rendered.Settings.TryGetProperty("confirm", out _));
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(4L)]
    public async Task A_resume_after_the_dispatcher_never_issued_is_rejected_naming_the_attribute(long position)
    {
        using var dispatcher = new CometyDispatcher();
        _harness.Dispatcher = dispatcher;
        await dispatcher.RegisterUserAsync("ann").Bounded();
        await dispatcher.BroadcastAsync("test", Args("chat")).Bounded();
        var tagHelper = _harness.CreateTagHelper();
        tagHelper.Url = "/chat/updates";
        tagHelper.ResumeAfter = position;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _harness.RenderAsync(tagHelper));

        Assert.Contains("resume-after", error.Message, StringComparison.Ordinal);
        Assert.Contains("from 0 to 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resume_after_without_the_api_is_rejected()
    {
        using var dispatcher = new CometyDispatcher();
        _harness.Dispatcher = dispatcher;
        var tagHelper = _harness.CreateTagHelper();
        tagHelper.RenderApi = false;
        tagHelper.ResumeAfter = 0;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _harness.RenderAsync(tagHelper));

        Assert.Contains("render-api", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_obsolete_confirm_user_is_ignored_and_confirms_nothing_for_the_user()
    {
        using var dispatcher = new CometyDispatcher();
        _harness.Dispatcher = dispatcher;
        await dispatcher.BroadcastAsync("test", Args("before")).Bounded();
        await dispatcher.RegisterUserAsync("ann").Bounded();
        await dispatcher.BroadcastAsync("test", Args("chat")).Bounded();

        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
#pragma warning disable CS0618 // The attribute under test is obsolete.
            tag.ConfirmUser = "nobody";
#pragma warning restore CS0618
        });

        Assert.Equal(1, rendered.Settings.GetProperty("confirm").GetInt64());
        Assert.Equal([1L], (await dispatcher.PollAsync("ann", 0, TimeSpan.Zero).Bounded()).Sequences());
    }

    [Fact]
    public async Task With_antiforgery_the_request_token_and_its_header_are_embedded_and_the_cookie_is_stored()
    {
        _harness.RealAntiforgery = true;

        var rendered = await _harness.RenderAsync(tag => tag.Url = "/chat/updates");

        var tokens = _harness.HttpContext.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(_harness.HttpContext);
        var antiforgery = rendered.Settings.GetProperty("antiforgery");
        Assert.Equal("JavaScriptEncode[[RequestVerificationToken]]", antiforgery.GetProperty("header").GetString());
        Assert.Equal($"JavaScriptEncode[[{tokens.RequestToken}]]", antiforgery.GetProperty("token").GetString());
        Assert.Contains(".AspNetCore.Antiforgery.", _harness.HttpContext.Response.Headers.SetCookie.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_antiforgery_validation_off_no_token_is_asked_for_or_embedded()
    {
        var antiforgery = new FixedAntiforgery(new AntiforgeryTokenSet("token", "cookie", "field", "X-Token"));
        _harness.Antiforgery = antiforgery;
        _harness.Options.ValidateAntiforgery = false;

        var rendered = await _harness.RenderAsync(tag => tag.Url = "/chat/updates");

        Assert.False(rendered.Settings.TryGetProperty("antiforgery", out _));
        Assert.Equal(0, antiforgery.Calls);
    }

    [Fact]
    public async Task Without_antiforgery_services_no_token_is_embedded()
    {
        var rendered = await _harness.RenderAsync(tag => tag.Url = "/chat/updates");

        Assert.False(rendered.Settings.TryGetProperty("antiforgery", out _));
    }

    [Fact]
    public async Task An_antiforgery_that_issues_no_request_token_embeds_nothing()
    {
        _harness.Antiforgery = new FixedAntiforgery(new AntiforgeryTokenSet(null, null, "field", "X-Token"));

        var rendered = await _harness.RenderAsync(tag => tag.Url = "/chat/updates");

        Assert.False(rendered.Settings.TryGetProperty("antiforgery", out _));
    }

    [Fact]
    public async Task The_timing_snippet_alone_stores_no_antiforgery_token()
    {
        var antiforgery = new FixedAntiforgery(new AntiforgeryTokenSet("token", "cookie", "field", "X-Token"));
        _harness.Antiforgery = antiforgery;

        var rendered = await _harness.RenderAsync(tag => tag.RenderApi = false);

        Assert.Equal(["timing comety"], rendered.Kinds);
        Assert.Equal(0, antiforgery.Calls);
    }

    [Fact]
    public async Task Every_setting_at_once_lands_in_one_object_the_api_reads()
    {
        using var dispatcher = new CometyDispatcher();
        _harness.Dispatcher = dispatcher;
        _harness.Antiforgery = new FixedAntiforgery(new AntiforgeryTokenSet("t0ken", "cookie", "field", "X-Token"));
        await dispatcher.RegisterUserAsync("ann").Bounded();
        await dispatcher.BroadcastAsync("test", Args("chat")).Bounded();

        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.ApiName = "chat";
            tag.JQueryName = "$";
            tag.AutoStart = true;
            tag.Timeout = 4;
        });

        Assert.Equal(
            """var chat = Comety.create(typeof $ === "undefined" ? undefined : $, {"name": "chat", "url": "JavaScriptEncode[[/chat/updates]]", "timeout": 4, "autoStart": true, "confirm": 1, "antiforgery": {"header": "JavaScriptEncode[[X-Token]]", "token": "JavaScriptEncode[[t0ken]]"}});""",
            rendered.CreateScript.Text);
        Assert.Equal(JsonValueKind.Object, rendered.Settings.ValueKind);
    }
}
