using System.Text.Encodings.Web;
using Comety.Tests.Infrastructure;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Mvc.Rendering;
using Microsoft.AspNetCore.Mvc.Routing;
using Microsoft.AspNetCore.Mvc.ViewComponents;
using Microsoft.AspNetCore.Razor.TagHelpers;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.WebEncoders.Testing;

namespace Comety.Tests.Razor.Infrastructure;

/// <summary>
/// Renders <c>&lt;comety-script&gt;</c> and the CometyScript view component outside a server, as
/// Razor would: a request with its own services, a view context whose route data has a
/// <see cref="RecordingRouter"/> for the real <see cref="UrlHelperFactory"/>, and the test encoders
/// by default, so that assertions show which values went through which encoder.
/// </summary>
internal sealed class ScriptHarness : IDisposable
{
    private ServiceProvider? _services;

    public CometyOptions Options { get; } = new();

    /// <summary>The encoder for values in the script; <see cref="JavaScriptTestEncoder"/> unless a test needs the real one.</summary>
    public JavaScriptEncoder JavaScriptEncoder { get; set; } = new JavaScriptTestEncoder();

    /// <summary>The encoder the output is written with; <see cref="HtmlTestEncoder"/> unless a test needs the real one.</summary>
    public HtmlEncoder HtmlEncoder { get; set; } = new HtmlTestEncoder();

    /// <summary>The application's dispatcher, registered in the request's services when set.</summary>
    public CometyDispatcher? Dispatcher { get; set; }

    /// <summary>
    /// Makes the application's dispatcher (one event posted) and another one (<paramref name="otherEvents"/>
    /// posted), ann registered in both: a page given the other one must take its position from it.
    /// </summary>
    public async Task<(CometyDispatcher Application, CometyDispatcher Other)> TwoDispatchersAsync(int otherEvents)
    {
        var application = new CometyDispatcher();
        var other = new CometyDispatcher();
        Dispatcher = application;
        foreach (var dispatcher in new[] { application, other })
        {
            await dispatcher.RegisterUserAsync("ann").Bounded();
        }

        await application.BroadcastAsync("test", TestEvents.Args("chat")).Bounded();
        for (var i = 0; i < otherEvents; i++)
        {
            await other.BroadcastAsync("test", TestEvents.Args("chat")).Bounded();
        }

        return (application, other);
    }

    /// <summary>Whether the application has ASP.NET Core's antiforgery (with ephemeral data protection).</summary>
    public bool RealAntiforgery { get; set; }

    /// <summary>An antiforgery of the test's own, registered instead of the real one when set.</summary>
    public IAntiforgery? Antiforgery { get; set; }

    public PathString PathBase { get; set; }

    public RecordingRouter Router { get; } = new();

    /// <summary>The route values of the page being rendered, which the URL helper falls back on.</summary>
    public RouteValueDictionary AmbientValues { get; } = new() { ["controller"] = "Home", ["action"] = "Index" };

    /// <summary>The request of the last tag helper or view component created.</summary>
    public HttpContext HttpContext { get; private set; } = default!;

    public CometyScriptTagHelper CreateTagHelper() =>
        new(JavaScriptEncoder, Microsoft.Extensions.Options.Options.Create(Options), new UrlHelperFactory()) { ViewContext = CreateViewContext() };

    public CometyScriptViewComponent CreateViewComponent() =>
        new(JavaScriptEncoder, Microsoft.Extensions.Options.Options.Create(Options))
        {
            ViewComponentContext = new ViewComponentContext { ViewContext = CreateViewContext() },
        };

    /// <summary>Renders a new tag helper that <paramref name="configure"/> has set up as attributes would.</summary>
    public Task<RenderedScripts> RenderAsync(Action<CometyScriptTagHelper>? configure = null)
    {
        var tagHelper = CreateTagHelper();
        configure?.Invoke(tagHelper);
        return RenderAsync(tagHelper);
    }

    public async Task<RenderedScripts> RenderAsync(CometyScriptTagHelper tagHelper)
    {
        var context = new TagHelperContext("comety-script", [], new Dictionary<object, object>(), "test");
        var output = new TagHelperOutput("comety-script", [], static (_, _) => Task.FromResult<TagHelperContent>(new DefaultTagHelperContent()))
        {
            TagMode = TagMode.SelfClosing,
        };
        tagHelper.Init(context);
        await tagHelper.ProcessAsync(context, output).Bounded();

        using var writer = new StringWriter();
        output.WriteTo(writer, HtmlEncoder);
        return RenderedScripts.Parse(writer.ToString());
    }

    /// <summary>Invokes a new view component as <c>Component.InvokeAsync</c> would, with the arguments <paramref name="invoke"/> passes.</summary>
    public async Task<RenderedScripts> InvokeAsync(Func<CometyScriptViewComponent, Task<IViewComponentResult>> invoke)
    {
        var result = Assert.IsType<HtmlContentViewComponentResult>(await invoke(CreateViewComponent()).Bounded());
        using var writer = new StringWriter();
        result.EncodedContent.WriteTo(writer, HtmlEncoder);
        return RenderedScripts.Parse(writer.ToString());
    }

    public void Dispose() => _services?.Dispose();

    private ViewContext CreateViewContext()
    {
        _services ??= BuildServices();
        var httpContext = new DefaultHttpContext { RequestServices = _services.CreateScope().ServiceProvider };
        httpContext.Request.PathBase = PathBase;
        httpContext.Request.Path = "/home/index";
        var routeData = new RouteData(new RouteValueDictionary(AmbientValues));
        routeData.Routers.Add(Router);
        HttpContext = httpContext;
        return new ViewContext { HttpContext = httpContext, RouteData = routeData, ActionDescriptor = new ActionDescriptor() };
    }

    private ServiceProvider BuildServices()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IUrlHelperFactory, UrlHelperFactory>();
        services.AddSingleton(HtmlEncoder);
        if (Dispatcher is not null)
        {
            services.AddSingleton(Dispatcher);
        }

        if (Antiforgery is not null)
        {
            services.AddSingleton(Antiforgery);
        }
        else if (RealAntiforgery)
        {
            services.AddDataProtection().UseEphemeralDataProtectionProvider();
            services.AddAntiforgery();
        }

        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
