using System.Net;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using Comety.Tests.Infrastructure.TestApp;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Comety.Tests.Http;

/// <summary>
/// Two ways to serve an updates URL: MVC's routing, where every MVC filter runs for polls, and
/// <c>MapComety</c>'s lean endpoints, where endpoint filters and conventions run and MVC's invoker does not.
/// </summary>
public sealed class EndpointMappingTests
{
    private const string LeanUrl = "/lean/updates";

    [Fact]
    public async Task Through_MVC_a_global_action_filter_runs_for_polls()
    {
        var filter = new CountingFilter();
        await using var host = await TestHost.StartAsync(new TestHostOptions
        {
            ConfigureServices = services => services.Configure<MvcOptions>(mvc => mvc.Filters.Add(filter)),
        }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        await client.PollOkAsync("timeout=0");

        Assert.Equal(1, filter.Executions);
        Assert.True(MvcRan(host), "MVC's invoker did not run the poll");
    }

    [Fact]
    public async Task Through_MVC_a_global_authorization_filter_guards_polls_and_streams()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions
        {
            ConfigureServices = services => services.Configure<MvcOptions>(mvc => mvc.Filters.Add(new RefusingFilter())),
        }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        await host.Dispatcher.BroadcastAsync("test", new Dictionary<string, object?> { ["event"] = "secret" }).Bounded();
        using var client = host.CreateClient("ann");

        using var poll = await client.PollAsync("timeout=0").Bounded();
        using var stream = await client.SendAsync(StreamRequest(CometyHttp.UpdatesUrl), HttpCompletionOption.ResponseHeadersRead).Bounded();

        Assert.Equal(HttpStatusCode.UnavailableForLegalReasons, poll.StatusCode);
        Assert.DoesNotContain("secret", await poll.Content.ReadAsStringAsync().Bounded(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnavailableForLegalReasons, stream.StatusCode);
    }

    [Fact]
    public async Task A_mapped_updates_URL_serves_polls_and_sends_with_the_controllers_hooks_and_without_MVCs_invoker()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions
        {
            Antiforgery = false,
            ConfigureApp = app => app.MapComety<TestUpdatesController>("lean/updates"),
        }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        var sequence = await host.Dispatcher.BroadcastAsync("test", new Dictionary<string, object?> { ["event"] = "hello" }).Bounded();
        using var client = host.CreateClient("ann");
        using var anonymous = host.CreateClient();

        using var poll = await client.GetAsync(new Uri($"{LeanUrl}?timeout=0&confirm=0", UriKind.Relative)).Bounded();
        var answer = await CometyHttp.ReadAnswerAsync(poll);
        using var signedOut = await anonymous.GetAsync(new Uri($"{LeanUrl}?timeout=0", UriKind.Relative)).Bounded();
        using var send = await client.PostAsync(new Uri(LeanUrl, UriKind.Relative), new StringContent("""{"type":"message","data":1}""", System.Text.Encoding.UTF8, "application/json")).Bounded();

        Assert.Equal([sequence!.Value], answer.Events!.Select(e => e.Seq));
        Assert.True(poll.IsNoStore());
        Assert.Equal("no-user", (await signedOut.AssertProblemAsync(HttpStatusCode.Forbidden)).GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.NoContent, send.StatusCode);
        Assert.False(MvcRan(host), "MVC's invoker ran the poll");
    }

    [Fact]
    public async Task An_endpoint_filter_on_the_mapping_runs_for_polls_and_sends()
    {
        var filter = new CountingEndpointFilter();
        await using var host = await TestHost.StartAsync(new TestHostOptions
        {
            Antiforgery = false,
            ConfigureApp = app => app.MapComety<TestUpdatesController>("lean/updates").AddEndpointFilter(filter),
        }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        using var poll = await client.GetAsync(new Uri($"{LeanUrl}?timeout=0", UriKind.Relative)).Bounded();
        using var send = await client.PostAsync(new Uri(LeanUrl, UriKind.Relative), new StringContent("""{"type":"message","data":1}""", System.Text.Encoding.UTF8, "application/json")).Bounded();

        Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, send.StatusCode);
        Assert.Equal(["GET", "POST"], filter.Methods);
    }

    [Fact]
    public async Task An_endpoint_filter_that_refuses_guards_polls_and_streams()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions
        {
            ConfigureApp = app => app.MapComety<TestUpdatesController>("lean/updates")
                .AddEndpointFilter((context, next) => ValueTask.FromResult<object?>(Results.StatusCode(StatusCodes.Status451UnavailableForLegalReasons))),
        }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        await host.Dispatcher.BroadcastAsync("test", new Dictionary<string, object?> { ["event"] = "secret" }).Bounded();
        using var client = host.CreateClient("ann");

        using var poll = await client.GetAsync(new Uri($"{LeanUrl}?timeout=0", UriKind.Relative)).Bounded();
        using var stream = await client.SendAsync(StreamRequest(LeanUrl), HttpCompletionOption.ResponseHeadersRead).Bounded();

        Assert.Equal(HttpStatusCode.UnavailableForLegalReasons, poll.StatusCode);
        Assert.DoesNotContain("secret", await poll.Content.ReadAsStringAsync().Bounded(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnavailableForLegalReasons, stream.StatusCode);
    }

    [Fact]
    public async Task The_mapping_carries_the_controllers_attributes_and_the_builders_conventions_but_no_route_attributes()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions
        {
            ConfigureApp = app => app.MapComety<MarkedUpdatesController>("marked/updates").RequireAuthorization("a-policy"),
        }).Bounded();

        var endpoints = host.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>().Where(e => e.RoutePattern.RawText?.Trim('/') == "marked/updates").ToList();

        Assert.Equal(2, endpoints.Count);
        Assert.All(endpoints, e => Assert.NotNull(e.Metadata.GetMetadata<MarkAttribute>()));
        Assert.All(endpoints, e => Assert.Contains(e.Metadata.GetOrderedMetadata<IAuthorizeData>(), a => a.Policy == "a-policy"));
        Assert.All(endpoints, e => Assert.Null(e.Metadata.GetMetadata<RouteAttribute>()));
        var poll = Assert.Single(endpoints, e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.SequenceEqual(["GET"]));
        Assert.NotNull(poll.Metadata.GetMetadata<DisableRequestTimeoutAttribute>());
        var send = Assert.Single(endpoints, e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.SequenceEqual(["POST"]));
        Assert.Null(send.Metadata.GetMetadata<DisableRequestTimeoutAttribute>());
    }

    [Fact]
    public async Task Mapped_at_the_URL_of_the_controllers_own_route_the_mapping_serves_it_and_the_match_is_not_ambiguous()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions
        {
            ConfigureApp = app => app.MapComety<TestUpdatesController>("test/updates"),
        }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        var answer = await client.PollOkAsync("timeout=0");

        Assert.Equal(0, answer.LastId);
        Assert.False(MvcRan(host), "MVC's invoker ran the poll: the attribute route won");
    }

    [Fact]
    public async Task Links_to_the_controllers_updates_action_find_the_mapped_URL()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions
        {
            ConfigureApp = app => app.MapComety<UnroutedUpdatesController>("unrouted/updates"),
        }).Bounded();

        var links = host.Services.GetRequiredService<LinkGenerator>();

        Assert.Equal("/unrouted/updates", links.GetPathByAction(action: "Updates", controller: "UnroutedUpdates"));
    }

    [Fact]
    public async Task A_controller_with_an_MVC_filter_attribute_is_refused_with_the_filters_name()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await (await TestHost.StartAsync(new TestHostOptions
            {
                ConfigureApp = app => app.MapComety<FilteredUpdatesController>("filtered/updates"),
            })).DisposeAsync()).Bounded();

        Assert.Contains(nameof(AuditAttribute), failure.Message, StringComparison.Ordinal);
        Assert.Contains("AddEndpointFilter", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_MVCs_services_the_mapping_says_what_to_add()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddComety();
        var app = builder.Build();

        var failure = Assert.Throws<InvalidOperationException>(() => app.MapComety<TestUpdatesController>("x/updates"));

        Assert.Contains("AddControllersWithViews", failure.Message, StringComparison.Ordinal);
    }

    internal static HttpRequestMessage StreamRequest(string url)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(url, UriKind.Relative));
        request.Headers.Accept.ParseAdd("text/event-stream");
        return request;
    }

    // MVC's invoker logs every action it executes.
    private static bool MvcRan(TestHost host) =>
        host.Logs.Entries.Any(e => e.EventName == "ControllerActionExecuting" && e.Message.Contains(nameof(CometyController.PollAsync), StringComparison.Ordinal));

    [AttributeUsage(AttributeTargets.Class)]
    private sealed class MarkAttribute : Attribute;

    private sealed class AuditAttribute : ActionFilterAttribute;

    [Mark]
    [Route("marked/by-mvc")]
    private sealed class MarkedUpdatesController : CometyController
    {
        protected override string? GetUserId() => null;
    }

    private sealed class UnroutedUpdatesController : CometyController
    {
        protected override string? GetUserId() => null;
    }

    [Audit]
    private sealed class FilteredUpdatesController : CometyController
    {
        protected override string? GetUserId() => null;
    }

    private sealed class RefusingFilter : IAuthorizationFilter
    {
        public void OnAuthorization(AuthorizationFilterContext context) => context.Result = new StatusCodeResult(StatusCodes.Status451UnavailableForLegalReasons);
    }

    private sealed class CountingFilter : IActionFilter
    {
        private int _executions;

        public int Executions => Volatile.Read(ref _executions);

        public void OnActionExecuting(ActionExecutingContext context) => Interlocked.Increment(ref _executions);

        public void OnActionExecuted(ActionExecutedContext context)
        {
        }
    }

    private sealed class CountingEndpointFilter : IEndpointFilter
    {
        private readonly List<string> _methods = [];

        public IReadOnlyList<string> Methods
        {
            get
            {
                lock (_methods)
                {
                    return [.. _methods];
                }
            }
        }

        public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            lock (_methods)
            {
                _methods.Add(context.HttpContext.Request.Method);
            }

            return next(context);
        }
    }
}
