using System.Text;
using System.Text.Json;

namespace Comety.LoadTest;

/// <summary>
/// The parts of SignalR's JSON hub protocol the load-test fleets speak: the handshake, a
/// non-blocking invocation (Join), pings, and reading the records the server sends, each a JSON
/// object followed by the record separator 0x1E. Reading allocates nothing per record.
/// </summary>
internal static class SignalRProtocol
{
    /// <summary>Ends every record, both ways.</summary>
    public const byte RecordSeparator = 0x1E;

    /// <summary>The largest answer a client accepts at once (a poll's body, or a WebSocket message and what is left over before it).</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    /// <summary>The handshake request: JSON hub protocol, version 1.</summary>
    public static ReadOnlySpan<byte> HandshakeRequest => "{\"protocol\":\"json\",\"version\":1}\u001e"u8;

    /// <summary>A ping (message type 6).</summary>
    public static ReadOnlySpan<byte> Ping => "{\"type\":6}\u001e"u8;

    /// <summary>The non-blocking invocation of the hub's <c>Join(room)</c>: no invocation id, so the server sends no completion.</summary>
    public static byte[] JoinInvocation(string room) =>
        Encoding.UTF8.GetBytes("{\"type\":1,\"target\":\"Join\",\"arguments\":[" + JsonSerializer.Serialize(room) + "]}\u001e");

    /// <summary>
    /// Reads the handshake response, the first record the server sends: <c>{}</c>, or an object
    /// with an <c>error</c>. Returns the error, or null when the handshake succeeded.
    /// </summary>
    public static string? ReadHandshakeResponse(ReadOnlySpan<byte> record)
    {
        var reader = new Utf8JsonReader(record);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new InvalidDataException("The handshake response is not a JSON object.");
        }

        string? error = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isError = reader.ValueTextEquals("error"u8);
            reader.Read();
            if (isError)
            {
                error = reader.TokenType == JsonTokenType.String ? reader.GetString() : "(an error that is not a string)";
            }
            else
            {
                reader.Skip();
            }
        }

        return error;
    }

    /// <summary>
    /// Reads one record (without its separator). For a <c>tick</c> invocation, <paramref name="index"/>
    /// and <paramref name="sentAt"/> are its two arguments (-1 and 0 when they are not an int and a long).
    /// Throws <see cref="InvalidDataException"/> when the record is not a JSON object with a type.
    /// </summary>
    public static SignalRMessage ReadMessage(ReadOnlySpan<byte> record, out int index, out long sentAt)
    {
        index = -1;
        sentAt = 0;
        try
        {
            var reader = new Utf8JsonReader(record);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new InvalidDataException("A record is not a JSON object.");
            }

            var type = -1;
            var isTick = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    type = reader.GetInt32();
                }
                else if (reader.ValueTextEquals("target"u8))
                {
                    reader.Read();
                    isTick = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("tick"u8);
                }
                else if (reader.ValueTextEquals("arguments"u8))
                {
                    reader.Read();
                    ReadTickArguments(ref reader, out index, out sentAt);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            return type switch
            {
                1 => isTick ? SignalRMessage.Tick : SignalRMessage.OtherInvocation,
                6 => SignalRMessage.Ping,
                7 => SignalRMessage.Close,
                -1 => throw new InvalidDataException("A record has no type."),
                _ => SignalRMessage.Other,
            };
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException("A record is not valid JSON: " + exception.Message, exception);
        }
    }

    // Reads [index, sentAt], leaving the reader on the array's end; anything else leaves -1 and 0
    // (so that the event book counts the tick as unexpected) and skips the value.
    private static void ReadTickArguments(ref Utf8JsonReader reader, out int index, out long sentAt)
    {
        index = -1;
        sentAt = 0;
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return;
        }

        var count = 0;
        var first = -1;
        var second = 0L;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            switch (count++)
            {
                case 0 when reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value):
                    first = value;
                    break;
                case 1 when reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value):
                    second = value;
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (count == 2)
        {
            index = first;
            sentAt = second;
        }
    }
}

/// <summary>What a record from the server is, as far as the load test cares.</summary>
internal enum SignalRMessage
{
    /// <summary>An invocation of <c>tick(index, sentAt)</c>.</summary>
    Tick,

    /// <summary>An invocation of anything else.</summary>
    OtherInvocation,

    /// <summary>A ping (type 6), which needs no answer.</summary>
    Ping,

    /// <summary>The server closes the connection (type 7).</summary>
    Close,

    /// <summary>Any other message type.</summary>
    Other,
}

/// <summary>What both SignalR fleets keep per simulated client to read what the server sends.</summary>
internal abstract class SignalRClientState(int number)
{
    public int Number { get; } = number;

    /// <summary>Completes when the handshake response has come, or fails with the client.</summary>
    public TaskCompletionSource Handshake { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Touched by the client's receive loop only.</summary>
    public bool Handshaken { get; set; }

    /// <summary>
    /// Takes one record from the server: the handshake response first, then ticks (into
    /// <paramref name="book"/>), pings (counted) and a close. Returns false on a close.
    /// </summary>
    public bool Receive(ReadOnlySpan<byte> record, EventBook book, long receivedAt, ref long pings)
    {
        if (!Handshaken)
        {
            if (SignalRProtocol.ReadHandshakeResponse(record) is { } error)
            {
                throw new InvalidDataException($"Client {Number}: the server refused the handshake: {error}");
            }

            Handshaken = true;
            Handshake.TrySetResult();
            return true;
        }

        switch (SignalRProtocol.ReadMessage(record, out var index, out var sentAt))
        {
            case SignalRMessage.Tick:
                book.Record(Number, index, sentAt, receivedAt);
                return true;
            case SignalRMessage.Ping:
                Interlocked.Increment(ref pings);
                return true;
            case SignalRMessage.Close:
                return false;
            default:
                // Anything else needs nothing.
                return true;
        }
    }
}
