using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Comety.Tests.Razor.Infrastructure;

/// <summary>Serves the whole test application under a path base, as behind a reverse proxy that forwards <c>/base/…</c>.</summary>
internal sealed class PathBaseStartupFilter(string pathBase) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UsePathBase(pathBase);
        next(app);
    };
}
