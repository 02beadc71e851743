using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace Comety.Internal;

/// <summary>
/// Writes the messages of a stream (PROTOCOL.md, version 2) as Server-Sent Events, straight into
/// the response's buffer. Each event's JSON is the one the event made once for every answer that
/// carries it; nothing here serializes an event again.
/// </summary>
internal static class EventStreamFrames
{
    public const string MediaType = "text/event-stream";

    // The reconnection delay an EventSource should use, in milliseconds.
    private const int RetryMilliseconds = 1000;

    // What a kept writer points at between two uses, so that it holds no finished response's buffer.
    private static readonly IBufferWriter<byte> Detached = new ArrayBufferWriter<byte>(1);

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>The first message: the reconnection delay and what the client may count on.</summary>
    public static void WriteOpening(IBufferWriter<byte> output, TimeSpan keepAlive, TimeSpan maxDuration)
    {
        Write(output, "retry: "u8);
        WriteInteger(output, RetryMilliseconds);
        Write(output, "\nevent: comety-stream\ndata: "u8);
        WriteJson(output, (keepAlive, maxDuration), static (json, state) =>
        {
            json.WriteStartObject();
            json.WriteNumber("keepAlive", state.keepAlive.TotalSeconds);
            json.WriteNumber("maxDuration", state.maxDuration.TotalSeconds);
            json.WriteEndObject();
        });
        Write(output, "\n\n"u8);
    }

    /// <summary>One message per event, with the event's sequence number as its id.</summary>
    public static void WriteEvents(IBufferWriter<byte> output, IReadOnlyList<CometyEvent> events)
    {
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            Write(output, "id: "u8);
            WriteInteger(output, e.Sequence);
            Write(output, "\ndata: "u8);

            // The converter copies the event's cached JSON, which has no raw line break.
            WriteJson(output, e, static (json, e) => JsonSerializer.Serialize(json, e));
            Write(output, "\n\n"u8);
        }
    }

    /// <summary>A comment line that only shows the stream is alive.</summary>
    public static void WriteKeepAlive(IBufferWriter<byte> output) => Write(output, ":\n\n"u8);

    /// <summary>The last message of a stream that lasted its time: where the client resumes.</summary>
    public static void WriteEnd(IBufferWriter<byte> output, long lastId)
    {
        Write(output, "id: "u8);
        WriteInteger(output, lastId);
        Write(output, "\nevent: comety-end\ndata: {\"lastId\":"u8);
        WriteInteger(output, lastId);
        Write(output, "}\n\n"u8);
    }

    /// <summary>The last message of a stream that a problem ends: the problem+json body a poll would get, with its status.</summary>
    public static void WriteProblem(IBufferWriter<byte> output, int status, string title, string detail, string? reason)
    {
        Write(output, "event: comety-problem\ndata: "u8);
        WriteJson(output, (status, title, detail, reason), static (json, problem) =>
        {
            json.WriteStartObject();
            json.WriteString("title", problem.title);
            json.WriteNumber("status", problem.status);
            json.WriteString("detail", problem.detail);
            if (problem.reason is not null)
            {
                json.WriteString("reason", problem.reason);
            }

            json.WriteEndObject();
        });
        Write(output, "\n\n"u8);
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }

    private static void WriteInteger(IBufferWriter<byte> output, long value)
    {
        var span = output.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var written);
        output.Advance(written);
    }

    // One writer per thread, reset onto each output: a stream allocates no writer per message.
    private static void WriteJson<TState>(IBufferWriter<byte> output, TState state, Action<Utf8JsonWriter, TState> write)
    {
        var json = t_writer;
        t_writer = null;
        if (json is null)
        {
            json = new Utf8JsonWriter(output);
        }
        else
        {
            json.Reset(output);
        }

        try
        {
            write(json, state);
            json.Flush();
        }
        finally
        {
            json.Reset(Detached);
            t_writer = json;
        }
    }
}
