using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Comety;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.AspNetCore.Mvc.Routing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps a <see cref="CometyController"/>'s updates URL on endpoints of its own, as <c>MapHub</c> maps a hub.</summary>
public static class CometyEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Serves the updates URL <paramref name="pattern"/> with <typeparamref name="TController"/>'s
    /// hooks (who the user is, which dispatcher, which channels a page may join) on two lean
    /// endpoints, a <c>GET</c> for polls and streams and a <c>POST</c> for sends, without MVC's action
    /// invoker: a waiting poll or an open stream holds no MVC filter pipeline.
    /// </summary>
    /// <typeparam name="TController">The controller; created per request with its constructor's services, as MVC creates controllers.</typeparam>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <param name="pattern">The updates URL's route pattern, for example <c>chat/updates</c>.</param>
    /// <returns>A builder for conventions on both endpoints: authorization, CORS, endpoint filters.</returns>
    /// <remarks>
    /// The controller's attributes (<c>[Authorize]</c>, <c>[AllowAnonymous]</c>, <c>[EnableCors]</c>,
    /// <c>[RequestTimeout]</c>, metadata of your own) become metadata of both endpoints, so that
    /// middleware treats them as it treats the controller's actions; route attributes do not (the
    /// pattern is the route). MVC filters do not run here: a controller with an MVC filter attribute
    /// (an authorization, resource, action, result or exception filter, or a filter factory) is
    /// refused, and global <see cref="MvcOptions.Filters"/> are not applied; use endpoint filters
    /// (<c>.AddEndpointFilter</c>) on the returned builder, or leave the controller to MVC's routing
    /// (<c>[Route]</c> and <c>MapControllers</c>), where every MVC filter runs. When the controller also
    /// has an attribute route to the same URL, these endpoints take precedence.
    /// </remarks>
    /// <exception cref="InvalidOperationException">MVC's services are missing, or the controller has an MVC filter attribute.</exception>
    public static CometyEndpointConventionBuilder MapComety<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TController>(
        this IEndpointRouteBuilder endpoints, [StringSyntax("Route")] string pattern)
        where TController : CometyController
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        var controllerType = typeof(TController);
        if (endpoints.ServiceProvider.GetService<IActionResultExecutor<ObjectResult>>() is null)
        {
            throw new InvalidOperationException($"MapComety<{controllerType.Name}> needs MVC's services: call builder.Services.AddControllersWithViews() (or AddControllers()) as well as AddComety().");
        }

        var attributes = controllerType.GetCustomAttributes(inherit: true);
        foreach (var attribute in attributes)
        {
            if (IsActingFilter(attribute))
            {
                throw new InvalidOperationException(
                    $"{controllerType.Name} has the MVC filter {attribute.GetType().Name}, which the endpoints MapComety maps would not run. " +
                    "Add it as an endpoint filter on what MapComety returns (.AddEndpointFilter), or serve the controller through MVC instead ([Route] and MapControllers) and do not map it with MapComety.");
            }
        }

        var create = ActivatorUtilities.CreateFactory(controllerType, Type.EmptyTypes);
        var controllerMetadata = attributes.Where(static a => !IsRouting(a)).ToArray();
        var controllerName = controllerType.Name.EndsWith("Controller", StringComparison.Ordinal) ? controllerType.Name[..^"Controller".Length] : controllerType.Name;

        // The controller's and the action's names as required values, as MVC's own endpoints have
        // them: links made with asp-controller (<comety-script asp-controller="…">) find this URL.
        var routeValues = new RouteValueDictionary { ["controller"] = controllerName, ["action"] = ActionName };
        var route = RoutePatternFactory.Parse(pattern, defaults: routeValues, parameterPolicies: null, requiredValues: routeValues);
        var poll = Map(endpoints, route, HttpMethods.Get, controllerType, controllerName, nameof(CometyController.PollAsync), controllerMetadata, create, static controller => controller.PollAsync());
        var send = Map(endpoints, route, HttpMethods.Post, controllerType, controllerName, nameof(CometyController.SendAsync), controllerMetadata, create, static controller => controller.SendAsync());
        return new CometyEndpointConventionBuilder(poll, send);
    }

    private const string ActionName = "Updates";

    private static IEndpointConventionBuilder Map(
        IEndpointRouteBuilder endpoints,
        RoutePattern route,
        string method,
        Type controllerType,
        string controllerName,
        string actionMethod,
        object[] controllerMetadata,
        ObjectFactory create,
        Func<CometyController, Task<IActionResult>> invoke)
    {
        var action = typeof(CometyController).GetMethod(actionMethod)!;
        var descriptor = new ControllerActionDescriptor
        {
            ControllerName = controllerName,
            ActionName = ActionName,
            MethodInfo = action,
            ControllerTypeInfo = controllerType.GetTypeInfo(),
            DisplayName = $"{controllerType.FullName}.{actionMethod} (Comety)",
        };
        descriptor.RouteValues["controller"] = controllerName;
        descriptor.RouteValues["action"] = ActionName;

        var endpoint = endpoints.Map(route, context => ServeAsync(context, descriptor, create, invoke));
        endpoint.WithMetadata(new HttpMethodMetadata([method]));
        endpoint.WithMetadata(controllerMetadata);
        endpoint.WithMetadata(action.GetCustomAttributes(inherit: true).Where(static a => !IsRouting(a)).ToArray());
        endpoint.WithDisplayName($"Comety {method} {controllerType.Name}");

        // Ahead of an attribute route of the same controller to the same URL, which would otherwise make the match ambiguous.
        endpoint.Add(static builder => ((RouteEndpointBuilder)builder).Order = -1);
        return endpoint;
    }

    private static async Task ServeAsync(HttpContext httpContext, ControllerActionDescriptor descriptor, ObjectFactory create, Func<CometyController, Task<IActionResult>> invoke)
    {
        var actionContext = new ActionContext(httpContext, httpContext.GetRouteData(), descriptor);
        var controller = (CometyController)create(httpContext.RequestServices, null);
        try
        {
            controller.ControllerContext = new ControllerContext(actionContext);
            var result = await invoke(controller);
            await result.ExecuteResultAsync(actionContext);
        }
        finally
        {
            if (controller is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync();
            }
            else if (controller is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }
    }

    // Attributes that describe MVC's routing of the controller: the mapping's pattern and methods replace them.
    private static bool IsRouting(object attribute) =>
        attribute is IRouteTemplateProvider or IActionHttpMethodProvider or ActionNameAttribute or NonActionAttribute;

    private static bool IsActingFilter(object attribute) =>
        attribute is IFilterFactory
            or IAuthorizationFilter or IAsyncAuthorizationFilter
            or IResourceFilter or IAsyncResourceFilter
            or IActionFilter or IAsyncActionFilter
            or IExceptionFilter or IAsyncExceptionFilter
            or IResultFilter or IAsyncResultFilter;
}
