using System.Text.Json;

namespace Comety.LoadTest;

/// <summary>Reads the args of a tick the servers post, <c>{"event":"tick","i":…,"t":…}</c>, for both Comety fleets.</summary>
internal static class TickArgs
{
    /// <summary>Reads the object the reader stands on (its start), up to its end: the tick's index and the server's send time.</summary>
    public static void Read(ref Utf8JsonReader reader, out int index, out long sentAt)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InvalidDataException("A tick's args are not an object.");
        }

        index = -1;
        sentAt = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("i"u8))
            {
                reader.Read();
                index = reader.GetInt32();
            }
            else if (reader.ValueTextEquals("t"u8))
            {
                reader.Read();
                sentAt = reader.GetInt64();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }
}
