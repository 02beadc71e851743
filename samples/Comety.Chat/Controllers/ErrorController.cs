using Microsoft.AspNetCore.Mvc;

namespace Comety.Chat.Controllers;

/// <summary>
/// The page the exception handler shows outside Development. It answers every method, since the
/// handler re-executes the failed request (a form's POST too) at this path.
/// </summary>
[IgnoreAntiforgeryToken]
public sealed class ErrorController : Controller
{
    [Route("/error")]
    public IActionResult Index() => View();
}
