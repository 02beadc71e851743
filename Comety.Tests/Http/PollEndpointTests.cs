using System.Net;
using System.Reflection;
using Comety.Internal;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using Comety.Tests.Infrastructure.TestApp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Comety.Tests.Http;

/// <summary>
/// Polls skip MVC's action invoker when no filter of the application would act on them, and go
/// through it, filters and all, when one would.
/// </summary>
public sealed class PollEndpointTests
{
    [Fact]
    public async Task A_poll_is_served_by_a_twin_of_the_controllers_endpoint_with_the_same_metadata_and_not_by_MVCs_invoker()
    {
        Endpoint? served = null;
        await using var host = await TestHost.StartAsync(new TestHostOptions
        {
            ConfigureApp = app => app.Use((HttpContext context, RequestDelegate next) =>
            {
                if (HttpMethods.IsGet(context.Request.Method) && context.Request.Path == CometyHttp.UpdatesUrl)
                {
                    served = context.GetEndpoint();
                }

                return next(context);
            }),
        }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        var answer = await client.PollOkAsync("timeout=0");

        Assert.Equal(0, answer.LastId);
        var declared = host.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Single(e => e.Metadata.GetMetadata<ControllerActionDescriptor>() is { ControllerTypeInfo: var type, ActionName: "Updates" } action
                && type == typeof(TestUpdatesController) && action.MethodInfo.Name == nameof(CometyController.PollAsync));
        Assert.NotNull(served);
        Assert.NotSame(declared, served);
        Assert.Same(declared.Metadata, served.Metadata);
        Assert.Equal(declared.DisplayName, served.DisplayName);
        Assert.False(MvcRan(host), "MVC's invoker ran the poll");
    }

    [Fact]
    public async Task A_global_action_filter_keeps_polls_on_MVCs_invoker_and_runs()
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
    public async Task A_global_authorization_filter_still_guards_polls()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions
        {
            ConfigureServices = services => services.Configure<MvcOptions>(mvc => mvc.Filters.Add(new RefusingFilter())),
        }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        await host.Dispatcher.BroadcastAsync("test", new Dictionary<string, object?> { ["event"] = "secret" }).Bounded();
        using var client = host.CreateClient("ann");

        using var response = await client.PollAsync("timeout=0").Bounded();
        var body = await response.Content.ReadAsStringAsync().Bounded();

        Assert.Equal(HttpStatusCode.UnavailableForLegalReasons, response.StatusCode);
        Assert.DoesNotContain("secret", body, StringComparison.Ordinal);
    }

    [Fact]
    public void MVCs_default_filters_do_not_keep_a_poll_on_the_invoker_but_an_applications_filter_does()
    {
        var poll = new ControllerActionDescriptor
        {
            MethodInfo = typeof(TestUpdatesController).GetMethod(nameof(CometyController.PollAsync))!,
            ControllerTypeInfo = typeof(TestUpdatesController).GetTypeInfo(),
            FilterDescriptors =
            [
                new FilterDescriptor(new Microsoft.AspNetCore.Mvc.ViewFeatures.SaveTempDataAttribute(), FilterScope.Global),
                new FilterDescriptor(new Microsoft.AspNetCore.Mvc.ModelBinding.UnsupportedContentTypeFilter(), FilterScope.Global),
                new FilterDescriptor(new AutoValidateAntiforgeryTokenAttribute(), FilterScope.Global),
                new FilterDescriptor(new ProducesResponseTypeAttribute(200), FilterScope.Action),
            ],
        };
        Assert.True(PollEndpointPolicy.CanServe(poll));

        poll.FilterDescriptors.Add(new FilterDescriptor(new CountingFilter(), FilterScope.Controller));
        Assert.False(PollEndpointPolicy.CanServe(poll));

        var send = new ControllerActionDescriptor
        {
            MethodInfo = typeof(TestUpdatesController).GetMethod(nameof(CometyController.SendAsync))!,
            ControllerTypeInfo = typeof(TestUpdatesController).GetTypeInfo(),
            FilterDescriptors = [],
        };
        Assert.False(PollEndpointPolicy.CanServe(send));
    }

    // MVC's invoker logs every action it executes.
    private static bool MvcRan(TestHost host) =>
        host.Logs.Entries.Any(e => e.EventName == "ControllerActionExecuting" && e.Message.Contains(nameof(CometyController.PollAsync), StringComparison.Ordinal));

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
}
