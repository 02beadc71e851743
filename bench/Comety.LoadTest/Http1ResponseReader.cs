using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Comety.LoadTest;

/// <summary>
/// Reads HTTP/1.1 responses from one socket, one after the other: the head, then the body piece by
/// piece as it arrives, with the chunked framing (or a length, or the end of the connection) taken
/// off. One buffer per connection, no allocation per read. A piece handed out is valid until the
/// next call. Only what a load-test client needs: no trailers kept, no <c>1xx</c>, no pipelining.
/// </summary>
internal sealed class Http1ResponseReader(int initialBufferBytes)
{
    /// <summary>A head, a chunk-size line, or the bytes between two chunks, at most.</summary>
    private const int MaxHeadBytes = 16 * 1024;

    /// <summary>The buffer never grows beyond this; a piece of body is at most this long.</summary>
    private const int MaxBufferBytes = 1024 * 1024;

    /// <summary>Receives per response at most: far beyond any stream of a run (one per event at least).</summary>
    private const int MaxReceivesPerResponse = 100_000_000;

    private byte[] _buffer = new byte[initialBufferBytes];
    private int _start;
    private int _end;
    private Framing _framing;
    private ChunkState _chunkState;
    private long _remaining;
    private int _receives;
    private long _lastReceiveAt = Stopwatch.GetTimestamp();

    private enum Framing
    {
        Chunked,
        Length,
        UntilClose,
    }

    private enum ChunkState
    {
        Size,
        Data,
        DataEnd,
        Trailers,
        Done,
    }

    /// <summary>The <see cref="Stopwatch"/> timestamp of the latest receive (or of <see cref="Reset"/>): when the last bytes arrived.</summary>
    public long LastReceiveAt => Volatile.Read(ref _lastReceiveAt);

    /// <summary>Whether the connection can carry another request once this response's body has been read.</summary>
    public bool KeepAlive { get; private set; }

    /// <summary>Forgets everything buffered, for a new connection.</summary>
    public void Reset()
    {
        _start = _end = 0;
        Volatile.Write(ref _lastReceiveAt, Stopwatch.GetTimestamp());
    }

    /// <summary>Reads the status line and headers of the next response.</summary>
    /// <exception cref="IOException">The connection ended first, or the head is not HTTP/1.1.</exception>
    public async ValueTask<Http1Head> ReadHeadAsync(Socket socket, CancellationToken cancellationToken)
    {
        _receives = 0;
        int headLength;
        while ((headLength = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (_end - _start > MaxHeadBytes)
            {
                throw new IOException($"A response head of more than {MaxHeadBytes} bytes.");
            }

            if (!await ReceiveAsync(socket, cancellationToken))
            {
                throw new IOException("The connection ended before the response head.");
            }
        }

        var head = ParseHead(_buffer.AsSpan(_start, headLength + 2));
        _start += headLength + 4;
        return head;
    }

    /// <summary>
    /// The next bytes of the body as they arrived, framing removed; empty once the body is complete.
    /// </summary>
    /// <exception cref="IOException">The connection ended before the body did, or the framing is broken.</exception>
    public async ValueTask<ReadOnlyMemory<byte>> ReadBodyAsync(Socket socket, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_framing == Framing.UntilClose)
            {
                if (_start == _end && !await ReceiveAsync(socket, cancellationToken))
                {
                    return ReadOnlyMemory<byte>.Empty;
                }

                return Take(_end - _start);
            }

            if (_framing == Framing.Length || _chunkState == ChunkState.Data)
            {
                if (_remaining == 0)
                {
                    if (_framing == Framing.Length)
                    {
                        return ReadOnlyMemory<byte>.Empty;
                    }

                    _chunkState = ChunkState.DataEnd;
                    continue;
                }

                if (_start == _end && !await ReceiveAsync(socket, cancellationToken))
                {
                    throw new IOException("The connection ended in the middle of the body.");
                }

                var piece = Take((int)Math.Min(_remaining, _end - _start));
                _remaining -= piece.Length;
                return piece;
            }

            switch (_chunkState)
            {
                case ChunkState.Done:
                    return ReadOnlyMemory<byte>.Empty;

                case ChunkState.DataEnd:
                case ChunkState.Size:
                case ChunkState.Trailers:
                    {
                        var line = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
                        if (line < 0)
                        {
                            if (_end - _start > MaxHeadBytes)
                            {
                                throw new IOException("A chunk line too long.");
                            }

                            if (!await ReceiveAsync(socket, cancellationToken))
                            {
                                throw new IOException("The connection ended in the middle of the chunked body.");
                            }

                            continue;
                        }

                        var text = _buffer.AsSpan(_start, line);
                        _start += line + 2;
                        _chunkState = NextChunkState(text);
                        continue;
                    }
            }
        }
    }

    /// <summary>Reads what is left of the body as UTF-8 text (an error's problem+json), at most 64 KiB of it.</summary>
    public async ValueTask<string> ReadBodyTextAsync(Socket socket, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        for (var i = 0; i < 10_000 && text.Length < 65_536; i++)
        {
            var piece = await ReadBodyAsync(socket, cancellationToken);
            if (piece.IsEmpty)
            {
                break;
            }

            text.Append(Encoding.UTF8.GetString(piece.Span));
        }

        return text.ToString();
    }

    private ChunkState NextChunkState(ReadOnlySpan<byte> line)
    {
        switch (_chunkState)
        {
            case ChunkState.DataEnd:
                // The line break after a chunk's data: nothing may stand before it.
                return line.IsEmpty ? ChunkState.Size : throw new IOException("No line break after a chunk.");

            case ChunkState.Size:
                {
                    var extension = line.IndexOf((byte)';');
                    var size = extension < 0 ? line : line[..extension];
                    if (!Utf8Parser.TryParse(size.Trim((byte)' '), out long length, out var used, 'x') || used != size.Trim((byte)' ').Length || length < 0)
                    {
                        throw new IOException("A chunk size that is not hexadecimal.");
                    }

                    _remaining = length;
                    return length == 0 ? ChunkState.Trailers : ChunkState.Data;
                }

            default:
                // Trailers, dropped, until the empty line that ends the body.
                return line.IsEmpty ? ChunkState.Done : ChunkState.Trailers;
        }
    }

    private ReadOnlyMemory<byte> Take(int count)
    {
        var piece = new ReadOnlyMemory<byte>(_buffer, _start, count);
        _start += count;
        return piece;
    }

    /// <summary>Receives more bytes after those buffered; false when the connection has ended.</summary>
    private async ValueTask<bool> ReceiveAsync(Socket socket, CancellationToken cancellationToken)
    {
        if (++_receives > MaxReceivesPerResponse)
        {
            throw new IOException($"More than {MaxReceivesPerResponse} receives for one response.");
        }

        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            var kept = _end - _start;
            if (_start > 0)
            {
                _buffer.AsSpan(_start, kept).CopyTo(_buffer);
            }
            else if (_buffer.Length >= MaxBufferBytes)
            {
                throw new IOException($"More than {MaxBufferBytes} bytes in one piece.");
            }
            else
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }

            _start = 0;
            _end = kept;
        }

        var received = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken);
        Volatile.Write(ref _lastReceiveAt, Stopwatch.GetTimestamp());
        _end += received;
        return received > 0;
    }

    private Http1Head ParseHead(ReadOnlySpan<byte> head)
    {
        // "HTTP/1.1 200 OK\r\n", then "Name: value\r\n" lines.
        var lineEnd = head.IndexOf("\r\n"u8);
        var statusLine = head[..lineEnd];
        if (!statusLine.StartsWith("HTTP/1.1 "u8) || statusLine.Length < 12
            || !Utf8Parser.TryParse(statusLine.Slice(9, 3), out int status, out _))
        {
            throw new IOException("Not an HTTP/1.1 response: " + Encoding.ASCII.GetString(statusLine));
        }

        var eventStream = false;
        var chunked = false;
        long length = -1;
        var close = false;
        var rest = head[(lineEnd + 2)..];
        for (var i = 0; i < 200 && !rest.IsEmpty; i++)
        {
            lineEnd = rest.IndexOf("\r\n"u8);
            var line = lineEnd < 0 ? rest : rest[..lineEnd];
            rest = lineEnd < 0 ? [] : rest[(lineEnd + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                continue;
            }

            var name = line[..colon];
            var value = line[(colon + 1)..].Trim((byte)' ');
            if (System.Text.Ascii.EqualsIgnoreCase(name, "Content-Type"u8))
            {
                eventStream = value.Length >= 17 && System.Text.Ascii.EqualsIgnoreCase(value[..17], "text/event-stream"u8);
            }
            else if (System.Text.Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                chunked = System.Text.Ascii.EqualsIgnoreCase(value, "chunked"u8);
            }
            else if (System.Text.Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (!Utf8Parser.TryParse(value, out length, out _))
                {
                    throw new IOException("A Content-Length that is not a number.");
                }
            }
            else if (System.Text.Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                close = value.IndexOf("close"u8) >= 0;
            }
        }

        if (chunked)
        {
            _framing = Framing.Chunked;
            _chunkState = ChunkState.Size;
        }
        else if (length >= 0)
        {
            _framing = Framing.Length;
            _remaining = length;
        }
        else
        {
            _framing = Framing.UntilClose;
            close = true;
        }

        KeepAlive = !close;
        return new Http1Head(status, eventStream, chunked);
    }
}
