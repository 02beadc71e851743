using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.DependencyInjection;

namespace Comety.Internal;

/// <summary>
/// Serves <see cref="CometyController.PollAsync"/> without MVC's action invoker when nothing in
/// MVC's filter pipeline would act on a poll: routing picks the controller's own endpoint, and
/// this policy swaps in a twin with the same route, order and metadata (so authorization,
/// request timeouts and everything else endpoint-based apply unchanged) whose request delegate
/// creates the controller with MVC's own factory, calls the action and executes its result.
/// A waiting poll then holds no invoker, filter state or state machines of MVC's.
/// </summary>
/// <remarks>
/// An application filter on the action, the controller or <see cref="MvcOptions.Filters"/>
/// (an authorization filter, an action or result filter, a filter factory) keeps the poll on
/// MVC's invoker, so that the filter runs. MVC's own defaults are known not to act on a poll:
/// they validate antiforgery tokens on unsafe methods only, save TempData (which the poll does
/// not touch), report model-binding content-type errors (the poll binds nothing) or apply to
/// model state and client-error results (the poll has neither).
/// </remarks>
internal sealed class PollEndpointPolicy : MatcherPolicy, IEndpointSelectorPolicy
{
    private static readonly MethodInfo PollMethod = typeof(CometyController).GetMethod(nameof(CometyController.PollAsync))!;

    // Filters of MVC's own that do nothing for a GET action without parameters, by full name (some are internal).
    private static readonly HashSet<string> InertFilters = new(StringComparer.Ordinal)
    {
        "Microsoft.AspNetCore.Mvc.ViewFeatures.SaveTempDataAttribute",
        "Microsoft.AspNetCore.Mvc.ModelBinding.UnsupportedContentTypeFilter",
        "Microsoft.AspNetCore.Mvc.AutoValidateAntiforgeryTokenAttribute",
        "Microsoft.AspNetCore.Mvc.Infrastructure.ModelStateInvalidFilterFactory",
        "Microsoft.AspNetCore.Mvc.Infrastructure.ClientErrorResultFilterFactory",
    };

    private readonly IServiceProvider _services;
    private readonly ConcurrentDictionary<Endpoint, Endpoint?> _twins = new();

    // Made once: a method group passed to GetOrAdd would be a new delegate on every request.
    private readonly Func<Endpoint, Endpoint?> _createTwin;

    public PollEndpointPolicy(IServiceProvider services)
    {
        _services = services;
        _createTwin = CreateTwin;
    }

    /// <summary>After MVC's and routing's own policies.</summary>
    public override int Order => 1000;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints)
    {
        foreach (var endpoint in endpoints)
        {
            if (IsPoll(endpoint))
            {
                return true;
            }
        }

        return false;
    }

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates.IsValidCandidate(i) && _twins.GetOrAdd(candidates[i].Endpoint, _createTwin) is { } twin)
            {
                candidates.ReplaceEndpoint(i, twin, candidates[i].Values);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Whether an endpoint is a poll action this policy serves; for tests and the twin.</summary>
    internal static bool CanServe(ControllerActionDescriptor action) =>
        action.MethodInfo.MethodHandle == PollMethod.MethodHandle
        && action.FilterDescriptors.All(static f => IsInert(f.Filter));

    private static bool IsPoll(Endpoint endpoint) =>
        endpoint is RouteEndpoint && endpoint.Metadata.GetMetadata<ControllerActionDescriptor>() is { } action && CanServe(action);

    private static bool IsInert(IFilterMetadata filter) =>
        InertFilters.Contains(filter.GetType().FullName!)
        || filter is not (IFilterFactory
            or IAuthorizationFilter or IAsyncAuthorizationFilter
            or IResourceFilter or IAsyncResourceFilter
            or IActionFilter or IAsyncActionFilter
            or IExceptionFilter or IAsyncExceptionFilter
            or IResultFilter or IAsyncResultFilter);

    private RouteEndpoint? CreateTwin(Endpoint endpoint)
    {
        if (endpoint is not RouteEndpoint route || !IsPoll(endpoint))
        {
            return null;
        }

        // Resolved here, not in the constructor: routing builds its policies in applications without MVC too.
        var controllerFactories = _services.GetRequiredService<IControllerFactoryProvider>();
        var action = endpoint.Metadata.GetMetadata<ControllerActionDescriptor>()!;
        var create = controllerFactories.CreateControllerFactory(action);
        var release = controllerFactories.CreateAsyncControllerReleaser(action);
        return new RouteEndpoint(context => PollAsync(context, action, create, release), route.RoutePattern, route.Order, route.Metadata, route.DisplayName);
    }

    private static async Task PollAsync(
        HttpContext httpContext, ControllerActionDescriptor action, Func<ControllerContext, object> create, Func<ControllerContext, object, ValueTask>? release)
    {
        var context = new ControllerContext(new ActionContext(httpContext, httpContext.GetRouteData(), action));
        var controller = (CometyController)create(context);
        try
        {
            var result = await controller.PollAsync();
            await result.ExecuteResultAsync(context);
        }
        finally
        {
            if (release is not null)
            {
                await release(context, controller);
            }
        }
    }
}
