using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Comety.Internal;

/// <summary>
/// Writes a poll's answer straight to the response: each event's JSON is made once and copied.
/// The body is composed in a buffer kept per thread, so that the answer carries a
/// <c>Content-Length</c> (no chunked framing) and a poll allocates no JSON writer.
/// </summary>
internal sealed class PollResultActionResult(PollResult result) : IActionResult
{
    // A buffer grown past this by a large backlog is left to the GC rather than kept by the thread.
    private const int MaxKeptBufferBytes = 16 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public Task ExecuteResultAsync(ActionContext context)
    {
        var response = context.HttpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";

        // Taken off the thread while in use, in case an event's converter ever writes a poll answer itself.
        var buffer = t_buffer ?? new ArrayBufferWriter<byte>(1024);
        var writer = t_writer;
        t_buffer = null;
        t_writer = null;
        if (writer is null)
        {
            writer = new Utf8JsonWriter(buffer);
        }
        else
        {
            writer.Reset(buffer);
        }

        try
        {
            JsonSerializer.Serialize(writer, result);
            writer.Flush();
            var length = buffer.WrittenCount;
            response.ContentLength = length;
            var body = response.BodyWriter;
            buffer.WrittenSpan.CopyTo(body.GetSpan(length));
            body.Advance(length);
        }
        finally
        {
            buffer.ResetWrittenCount();
            if (buffer.Capacity <= MaxKeptBufferBytes)
            {
                t_buffer = buffer;
                t_writer = writer;
            }
        }

        var flush = response.BodyWriter.FlushAsync(context.HttpContext.RequestAborted);
        return flush.IsCompletedSuccessfully ? Task.CompletedTask : flush.AsTask();
    }
}
