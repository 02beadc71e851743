using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Comety.Serialization;

/// <summary>Writes an event as the protocol's <c>[sender, args, seq]</c> array.</summary>
/// <remarks>
/// Events are written, never read: a client only receives them. The bytes of each event are
/// produced once and reused for every recipient.
/// </remarks>
internal sealed class CometyEventJsonConverter : JsonConverter<CometyEvent>
{
    private static readonly JsonSerializerOptions ArgsOptions = new(JsonSerializerDefaults.Web);

    public override CometyEvent Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("Comety events are sent to clients, not read from them.");

    public override void Write(Utf8JsonWriter writer, CometyEvent value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.GetUtf8Json(), skipInputValidation: true);

    // An event's arguments as one JSON object: on the wire and in a durable log's record alike.
    internal static void WriteArgs(Utf8JsonWriter writer, IReadOnlyDictionary<string, object?> args)
    {
        writer.WriteStartObject();
        foreach (var (name, argument) in args)
        {
            writer.WritePropertyName(name);
            if (argument is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                JsonSerializer.Serialize(writer, argument, argument.GetType(), ArgsOptions);
            }
        }

        writer.WriteEndObject();
    }

    internal static byte[] SerializeToUtf8(CometyEvent value)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            SenderJsonWriter.Write(writer, value.Sender);
            WriteArgs(writer, value.Args);
            writer.WriteNumberValue(value.Sequence);
            writer.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
