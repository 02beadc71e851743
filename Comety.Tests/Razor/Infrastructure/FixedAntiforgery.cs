using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;

namespace Comety.Tests.Razor.Infrastructure;

/// <summary>Antiforgery that hands out the token set a test chose, hostile or missing.</summary>
internal sealed class FixedAntiforgery(AntiforgeryTokenSet tokens) : IAntiforgery
{
    public int Calls { get; private set; }

    public AntiforgeryTokenSet GetAndStoreTokens(HttpContext httpContext)
    {
        Calls++;
        return tokens;
    }

    public AntiforgeryTokenSet GetTokens(HttpContext httpContext) => tokens;

    public Task<bool> IsRequestValidAsync(HttpContext httpContext) => Task.FromResult(true);

    public void SetCookieTokenAndHeader(HttpContext httpContext)
    {
    }

    public Task ValidateRequestAsync(HttpContext httpContext) => Task.CompletedTask;
}
