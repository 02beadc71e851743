using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Comety.Tests.Infrastructure.TestApp;

/// <summary>Reads and changes the session, as the application's own requests do beside Comety's polls.</summary>
[Route("test/session/{key}")]
[IgnoreAntiforgeryToken]
public sealed class TestSessionController : Controller
{
    [HttpGet]
    public IActionResult Read(string key) => HttpContext.Session.GetString(key) is { } value ? Content(value) : NotFound();

    [HttpPut]
    public IActionResult Write(string key, string value)
    {
        HttpContext.Session.SetString(key, value);
        return NoContent();
    }

    [HttpDelete]
    public IActionResult Remove(string key)
    {
        HttpContext.Session.Remove(key);
        return NoContent();
    }
}
