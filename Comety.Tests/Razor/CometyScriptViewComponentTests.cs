using Comety.Tests.Infrastructure;
using Comety.Tests.Razor.Infrastructure;
using Microsoft.AspNetCore.Antiforgery;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Razor;

/// <summary>The CometyScript view component invoked directly, against <c>&lt;comety-script&gt;</c> with the same settings.</summary>
public sealed class CometyScriptViewComponentTests : IDisposable
{
    private readonly ScriptHarness _harness = new() { Antiforgery = new FixedAntiforgery(new AntiforgeryTokenSet("t0ken", "cookie", "field", "X-Token")) };

    public void Dispose() => _harness.Dispose();

    [Theory]
    [InlineData("/chat/updates", null, null, "comety", "jQuery", true, true, false, null, false, null)]
    [InlineData("/chat/updates", null, null, "a", "jQuery", true, true, false, null, false, null)]
    [InlineData(null, "ChatUpdates", "lobby", "chat", "$", true, false, true, 4.5, true, "n0nce")]
    [InlineData(null, "ChatUpdates", null, "comety", "jQuery", false, true, false, null, true, "n0nce")]
    [InlineData("/chat/updates", null, null, "comety", "jQuery", false, false, false, null, false, null)]
    public async Task The_view_component_renders_exactly_what_the_tag_helper_renders_for_the_same_settings(
        string? url, string? controller, string? room, string apiName, string jqueryName,
        bool renderApi, bool renderTiming, bool autoStart, double? timeout, bool includeJQuery, string? nonce)
    {
        var fromTagHelper = await _harness.RenderAsync(tag =>
        {
            tag.Url = url;
            tag.Controller = controller;
            if (room is not null)
            {
                tag.RouteValues["room"] = room;
            }

            tag.ApiName = apiName;
            tag.JQueryName = jqueryName;
            tag.RenderApi = renderApi;
            tag.RenderTiming = renderTiming;
            tag.AutoStart = autoStart;
            tag.Timeout = timeout;
            tag.IncludeJQuery = includeJQuery;
            tag.Nonce = nonce;
        });
        var fromViewComponent = await _harness.InvokeAsync(component => component.InvokeAsync(
            url: url,
            controller: controller,
            routeValues: room is null ? null : new { room },
            apiName: apiName,
            jqueryName: jqueryName,
            renderApi: renderApi,
            renderTiming: renderTiming,
            autoStart: autoStart,
            timeout: timeout,
            includeJquery: includeJQuery,
            nonce: nonce));

        Assert.Equal(renderApi || renderTiming || includeJQuery, fromTagHelper.Scripts.Count > 0);
        Assert.Equal(fromTagHelper.Html, fromViewComponent.Html);
        Assert.Equal(fromTagHelper.Kinds, fromViewComponent.Kinds);
    }

    [Fact]
    public async Task The_view_component_passes_controller_action_and_route_values_to_the_url_helper()
    {
        var rendered = await _harness.InvokeAsync(component => component.InvokeAsync(controller: "ChatUpdates", action: "Poll", routeValues: new { room = "lobby" }));

        var values = Assert.Single(_harness.Router.Requests);
        Assert.Equal("ChatUpdates", values["controller"]);
        Assert.Equal("Poll", values["action"]);
        Assert.Equal("lobby", values["room"]);
        Assert.Equal("JavaScriptEncode[[/ChatUpdates/Poll?room=lobby]]", rendered.Settings.GetProperty("url").GetString());
    }

    [Fact]
    public async Task The_view_component_resumes_after_its_position_like_the_tag_helper()
    {
        using var dispatcher = new CometyDispatcher();
        _harness.Dispatcher = dispatcher;
        await dispatcher.RegisterUserAsync("ann").Bounded();
        await dispatcher.BroadcastAsync("test", Args("chat")).Bounded();
        await dispatcher.BroadcastAsync("test", Args("chat")).Bounded();

        var fromTagHelper = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.ResumeAfter = 1;
        });
        var fromViewComponent = await _harness.InvokeAsync(component => component.InvokeAsync(url: "/chat/updates", resumeAfter: 1));
        var readAtRender = await _harness.InvokeAsync(component => component.InvokeAsync(url: "/chat/updates"));

        Assert.Equal(1, fromViewComponent.Settings.GetProperty("confirm").GetInt64());
        Assert.Equal(fromTagHelper.Html, fromViewComponent.Html);
        Assert.Equal(2, readAtRender.Settings.GetProperty("confirm").GetInt64());
    }

    [Fact]
    public async Task The_view_component_dispatcher_parameter_reads_the_position_instead_of_the_applications_dispatcher()
    {
        var (application, other) = await _harness.TwoDispatchersAsync(otherEvents: 3);
        using var _ = application;
        using var __ = other;

        var rendered = await _harness.InvokeAsync(component => component.InvokeAsync(url: "/chat/updates", dispatcher: other));

        Assert.Equal(3, rendered.Settings.GetProperty("confirm").GetInt64());
    }

    [Theory]
    [InlineData("api-name", "x;alert(1)", "jQuery")]
    [InlineData("api-name", "var", "jQuery")]
    [InlineData("jquery-name", "comety", "window.jQuery")]
    [InlineData("jquery-name", "comety", "")]
    public async Task The_view_component_rejects_the_names_the_tag_helper_rejects(string attribute, string apiName, string jqueryName)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(
            () => _harness.InvokeAsync(component => component.InvokeAsync(url: "/chat/updates", apiName: apiName, jqueryName: jqueryName)));

        Assert.Equal(attribute, error.ParamName);
    }

    [Theory]
    [InlineData("stream")]
    [InlineData("poll")]
    public async Task The_view_component_passes_the_transport_like_the_tag_helper(string transport)
    {
        var fromTagHelper = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.Transport = transport;
        });
        var fromViewComponent = await _harness.InvokeAsync(component => component.InvokeAsync(url: "/chat/updates", transport: transport));

        Assert.Equal(transport, fromViewComponent.Settings.GetProperty("transport").GetString());
        Assert.Equal(fromTagHelper.Html, fromViewComponent.Html);
    }

    [Fact]
    public async Task The_view_component_rejects_a_transport_comety_js_does_not_know()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(
            () => _harness.InvokeAsync(component => component.InvokeAsync(url: "/chat/updates", transport: "websocket")));

        Assert.Equal("transport", error.ParamName);
        Assert.Contains("'websocket'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(double.NaN)]
    [InlineData(301)]
    public async Task The_view_component_rejects_the_timeouts_the_tag_helper_rejects(double timeout)
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => _harness.InvokeAsync(component => component.InvokeAsync(url: "/chat/updates", timeout: timeout)));

        Assert.Equal("timeout", error.ParamName);
    }

    [Fact]
    public async Task The_view_component_rejects_a_url_together_with_a_controller()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => _harness.InvokeAsync(component => component.InvokeAsync(url: "/chat/updates", controller: "ChatUpdates")));

        Assert.Contains("'url'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'controller'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_view_component_rejects_a_controller_that_no_route_leads_to()
    {
        _harness.Router.NoRoute = true;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => _harness.InvokeAsync(component => component.InvokeAsync(controller: "Missing")));

        Assert.Contains("'Missing'", error.Message, StringComparison.Ordinal);
    }
}
