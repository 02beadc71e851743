using System.Text.Json;
using System.Text.Json.Serialization;

namespace Comety.Serialization;

/// <summary>Writes a poll's answer as the protocol's <c>{"lastId": …, "events": […]}</c> body.</summary>
internal sealed class PollResultJsonConverter : JsonConverter<PollResult>
{
    private static readonly JsonEncodedText LastId = JsonEncodedText.Encode("lastId");
    private static readonly JsonEncodedText Events = JsonEncodedText.Encode("events");

    public override PollResult Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("Poll results are sent to clients, not read from them.");

    public override void Write(Utf8JsonWriter writer, PollResult value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteNumber(LastId, value.LastId);
        writer.WritePropertyName(Events);
        if (value.Events is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            // Indexed, not foreach: enumerating the interface would allocate an enumerator per answer.
            var events = value.Events;
            writer.WriteStartArray();
            for (var i = 0; i < events.Count; i++)
            {
                writer.WriteRawValue(events[i].GetUtf8Json(), skipInputValidation: true);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }
}
