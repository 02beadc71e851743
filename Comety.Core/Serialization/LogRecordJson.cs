using System.Buffers;
using System.Text.Json;

namespace Comety.Serialization;

/// <summary>
/// The bytes a durable log stores for an event (<see cref="CometyEvent.ToLogRecord"/>):
/// <c>{"kind":0,"sender":…,"args":{…},"channel":…,"targets":[…]}</c>, the sequence number kept beside them.
/// </summary>
internal static class LogRecordJson
{
    public static byte[] Write(CometyEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("kind", (int)e.Kind);
            writer.WritePropertyName("sender");
            SenderJsonWriter.Write(writer, e.Sender);
            writer.WritePropertyName("args");
            CometyEventJsonConverter.WriteArgs(writer, e.Args);
            if (e.Channel is { } channel)
            {
                writer.WriteString("channel", channel);
            }

            if (e.TargetUserIds is { } targets)
            {
                writer.WriteStartArray("targets");
                foreach (var target in targets)
                {
                    writer.WriteStringValue(target);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static (LogRecordKind Kind, object? Sender, Dictionary<string, object?> Args, string? Channel, string[]? Targets) Read(ReadOnlySpan<byte> record)
    {
        try
        {
            var reader = new Utf8JsonReader(record);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            var kind = (LogRecordKind)root.GetProperty("kind").GetInt32();
            if (!Enum.IsDefined(kind))
            {
                throw new FormatException($"Unknown log record kind {(int)kind}.");
            }

            var sender = Restore(root.GetProperty("sender"));
            var args = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var property in root.GetProperty("args").EnumerateObject())
            {
                args[property.Name] = Restore(property.Value);
            }

            var channel = root.TryGetProperty("channel", out var c) ? c.GetString() : null;
            string[]? targets = null;
            if (root.TryGetProperty("targets", out var t))
            {
                targets = new string[t.GetArrayLength()];
                var i = 0;
                foreach (var target in t.EnumerateArray())
                {
                    targets[i++] = target.GetString() ?? throw new FormatException("A target user id is null.");
                }
            }

            return (kind, sender, args, channel, targets);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new FormatException("The bytes are not a Comety log record.", e);
        }
    }

    // Strings and null come back as themselves (an event's type, its channel, a user id are read as
    // strings); anything else as a JsonElement, which is written back to the wire as it was.
    private static object? Restore(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => value.GetString(),
        _ => value.Clone(),
    };
}
