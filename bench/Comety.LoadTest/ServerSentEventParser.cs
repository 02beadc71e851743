namespace Comety.LoadTest;

/// <summary>
/// An incremental parser of a <c>text/event-stream</c> body (HTML Living Standard, 9.2.6): fed the
/// body's bytes in whatever pieces they arrive, it hands each complete message and comment to an
/// <see cref="IServerSentEventSink"/>. Lines end with CR LF, LF or CR. A line that lies whole in one
/// piece is read where it lies; only a line split between pieces, and a message's fields, are copied
/// into the parser's own buffers, which grow as needed and are kept. One parser per stream.
/// </summary>
internal sealed class ServerSentEventParser
{
    /// <summary>A line or a message's data, at most; a server that sends more is not one a load test should trust.</summary>
    private const int MaxFieldBytes = 1024 * 1024;

    private byte[] _line = new byte[256];
    private int _lineLength;
    private byte[] _data = new byte[256];
    private int _dataLength;
    private bool _hasData;
    private readonly byte[] _type = new byte[64];
    private int _typeLength;
    private readonly byte[] _id = new byte[32];
    private int _idLength;

    /// <summary>The last piece ended with CR: a LF at the start of the next one belongs to that line break.</summary>
    private bool _skipLineFeed;

    /// <summary>Forgets everything, for a new stream.</summary>
    public void Reset()
    {
        _lineLength = 0;
        _dataLength = 0;
        _hasData = false;
        _typeLength = 0;
        _idLength = 0;
        _skipLineFeed = false;
    }

    /// <summary>Parses the next bytes of the body.</summary>
    /// <exception cref="InvalidDataException">A line or a message's data is longer than 1 MiB.</exception>
    public void Push(ReadOnlySpan<byte> bytes, IServerSentEventSink sink)
    {
        while (!bytes.IsEmpty)
        {
            if (_skipLineFeed)
            {
                _skipLineFeed = false;
                if (bytes[0] == (byte)'\n')
                {
                    bytes = bytes[1..];
                    continue;
                }
            }

            var end = bytes.IndexOfAny((byte)'\r', (byte)'\n');
            if (end < 0)
            {
                Append(ref _line, ref _lineLength, bytes);
                return;
            }

            if (_lineLength == 0)
            {
                Line(bytes[..end], sink);
            }
            else
            {
                Append(ref _line, ref _lineLength, bytes[..end]);
                Line(_line.AsSpan(0, _lineLength), sink);
                _lineLength = 0;
            }

            _skipLineFeed = bytes[end] == (byte)'\r';
            bytes = bytes[(end + 1)..];
        }
    }

    private void Line(ReadOnlySpan<byte> line, IServerSentEventSink sink)
    {
        if (line.IsEmpty)
        {
            Dispatch(sink);
            return;
        }

        if (line[0] == (byte)':')
        {
            sink.OnComment(line[1..]);
            return;
        }

        var colon = line.IndexOf((byte)':');
        var name = colon < 0 ? line : line[..colon];
        var value = colon < 0 ? [] : line[(colon + 1)..];
        if (!value.IsEmpty && value[0] == (byte)' ')
        {
            value = value[1..];
        }

        if (name.SequenceEqual("data"u8))
        {
            if (_hasData)
            {
                Append(ref _data, ref _dataLength, "\n"u8);
            }

            Append(ref _data, ref _dataLength, value);
            _hasData = true;
        }
        else if (name.SequenceEqual("event"u8))
        {
            // Event types here are short names; a longer one is kept cut, and then matches nothing known.
            _typeLength = Math.Min(value.Length, _type.Length);
            value[.._typeLength].CopyTo(_type);
        }
        else if (name.SequenceEqual("id"u8))
        {
            if (value.IndexOf((byte)0) < 0)
            {
                _idLength = Math.Min(value.Length, _id.Length);
                value[.._idLength].CopyTo(_id);
            }
        }

        // "retry" and unknown fields: nothing a load-test client acts on.
    }

    private void Dispatch(IServerSentEventSink sink)
    {
        // The last event id persists from message to message; the type and data are the message's own.
        if (_hasData)
        {
            sink.OnMessage(_type.AsSpan(0, _typeLength), _data.AsSpan(0, _dataLength), _id.AsSpan(0, _idLength));
        }

        _dataLength = 0;
        _hasData = false;
        _typeLength = 0;
    }

    private static void Append(ref byte[] buffer, ref int length, ReadOnlySpan<byte> bytes)
    {
        if (length + bytes.Length > buffer.Length)
        {
            if (length + bytes.Length > MaxFieldBytes)
            {
                throw new InvalidDataException($"A Server-Sent Events line or message of more than {MaxFieldBytes} bytes.");
            }

            Array.Resize(ref buffer, Math.Max(buffer.Length * 2, length + bytes.Length));
        }

        bytes.CopyTo(buffer.AsSpan(length));
        length += bytes.Length;
    }
}
