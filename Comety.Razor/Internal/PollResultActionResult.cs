using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Comety.Internal;

/// <summary>Writes a poll's answer straight to the response: each event's JSON is made once and copied.</summary>
internal sealed class PollResultActionResult(PollResult result) : IActionResult
{
    public async Task ExecuteResultAsync(ActionContext context)
    {
        var response = context.HttpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        await using (var writer = new Utf8JsonWriter(response.BodyWriter))
        {
            JsonSerializer.Serialize(writer, result);
        }

        await response.BodyWriter.FlushAsync(context.HttpContext.RequestAborted);
    }
}
