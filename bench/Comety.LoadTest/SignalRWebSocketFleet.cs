using System.Diagnostics;
using System.Net.WebSockets;

namespace Comety.LoadTest;

/// <summary>
/// Clients of the SignalR hub at <c>/hub</c> on the WebSockets transport, each with its own
/// <see cref="ClientWebSocket"/>: straight to <c>ws://…/hub</c> with no negotiation (as SignalR's
/// clients do when told SkipNegotiation), the handshake, Join, then a receive loop. One shared
/// timer pings every client every 10 s, since the server drops a client it has not heard from in 30 s.
/// </summary>
internal sealed class SignalRWebSocketFleet : Fleet
{
    /// <summary>Connecting one client, from the socket's connect to its Join sent.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The server pings every 15 s (its KeepAliveInterval), so a client that hears nothing this long is cut off.</summary>
    private static readonly TimeSpan ReceiveTimeout = TimeSpan.FromSeconds(90);

    /// <summary>What SignalR's clients do: half the server's 30 s ClientTimeoutInterval.</summary>
    private static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan PingSendTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long disposing may take in all: every close handshake, then the loops ending.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Messages one client receives at most; one per event or per server ping, so far beyond any run.</summary>
    private const int MaxMessages = 10_000_000;

    /// <summary>Frames one message may take at most.</summary>
    private const int MaxFrames = 100_000;

    /// <summary>Ping rounds at most: a week of them.</summary>
    private const int MaxPingRounds = 7 * 24 * 60 * 6;

    private const int CloseConcurrency = 100;

    private static readonly byte[] HandshakeRequest = SignalRProtocol.HandshakeRequest.ToArray();
    private static readonly byte[] Ping = SignalRProtocol.Ping.ToArray();

    private readonly Uri _hub;

    /// <summary>What the WebSockets connect through when their source addresses are chosen; null for the default.</summary>
    private readonly HttpMessageInvoker? _invoker;
    private readonly CancellationTokenSource _stopPings = new();
    private readonly CancellationTokenSource _abort = new();
    private Client?[] _clients = [];
    private Task _pinger = Task.CompletedTask;
    private long _failures;
    private long _pings;
    private string? _firstFailure;
    private volatile bool _stopping;

    public SignalRWebSocketFleet(Uri server, EventBook book, SourceAddresses? sources = null)
        : base(server, book, sources)
    {
        _hub = new UriBuilder(new Uri(server, "hub")) { Scheme = "ws" }.Uri;
        _invoker = Sources.Count == 0 ? null : new HttpMessageInvoker(LoadHttp.CreateHandler(Sources));
    }

    public override long Failures => Interlocked.Read(ref _failures);

    /// <summary>Pings (type 6) the server sent, to all clients, so far.</summary>
    public long PingsReceived => Interlocked.Read(ref _pings);

    /// <summary>Why the first failed client failed, for the log; null while none has.</summary>
    public string? FirstFailure => Volatile.Read(ref _firstFailure);

    public override async Task ConnectAsync(int count, int concurrency, CancellationToken cancellationToken)
    {
        if (_clients.Length != 0)
        {
            throw new InvalidOperationException("A fleet connects once.");
        }

        _clients = new Client?[count];
        _pinger = PingLoopAsync();
        await Parallel.ForEachAsync(
            Enumerable.Range(0, count),
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (c, ct) => await ConnectClientAsync(c, ct));
    }

    public override async ValueTask DisposeAsync()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        await _stopPings.CancelAsync();
        await _pinger;

        // Each client starts the close handshake; its receive loop ends when the server's close frame comes back.
        var clients = _clients.OfType<Client>().ToArray();
        using var deadline = new CancellationTokenSource(CloseTimeout);
        try
        {
            await Parallel.ForEachAsync(
                clients,
                new ParallelOptions { MaxDegreeOfParallelism = CloseConcurrency, CancellationToken = deadline.Token },
                async (client, ct) =>
                {
                    try
                    {
                        if (client.Socket.State == WebSocketState.Open)
                        {
                            await client.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct);
                        }

                        await client.Loop.WaitAsync(ct);
                    }
                    catch (Exception exception) when (exception is WebSocketException or IOException or ObjectDisposedException)
                    {
                        // Broken already: aborted below.
                    }
                });
        }
        catch (OperationCanceledException)
        {
            // Out of time: whatever is left is aborted below.
        }

        await _abort.CancelAsync();
        foreach (var client in clients)
        {
            client.Dispose();
        }

        _stopPings.Dispose();
        _abort.Dispose();
        _invoker?.Dispose();
    }

    private async Task ConnectClientAsync(int number, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _abort.Token);
        timeout.CancelAfter(ConnectTimeout);

        var socket = new ClientWebSocket();
        socket.Options.Proxy = null;

        // No WebSocket-level pings: like a browser, the client keeps the connection alive with SignalR pings only.
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        var client = new Client(number, socket, _abort.Token);
        _clients[number] = client;
        if (_invoker is null)
        {
            await socket.ConnectAsync(_hub, timeout.Token);
        }
        else
        {
            await socket.ConnectAsync(_hub, _invoker, timeout.Token);
        }

        await socket.SendAsync(HandshakeRequest, WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        client.Loop = ReceiveLoopAsync(client);
        await client.Handshake.Task.WaitAsync(timeout.Token);
        await socket.SendAsync(SignalRProtocol.JoinInvocation(Rooms.Name(number % Rooms.Count)), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);

        // From now on the pinger is the only one that sends on this socket.
        client.Ready = true;
    }

    private async Task ReceiveLoopAsync(Client client)
    {
        await Task.Yield();
        var socket = client.Socket;
        var buffer = new byte[1024];
        var length = 0; // Bytes in the buffer: what is left of a record the last message did not finish, then this message.
        try
        {
            for (var message = 0; message < MaxMessages; message++)
            {
                for (var frame = 0; ; frame++)
                {
                    if (frame == MaxFrames)
                    {
                        throw new InvalidDataException($"Client {client.Number}: a message of more than {MaxFrames} frames.");
                    }

                    if (length == buffer.Length)
                    {
                        if (length >= SignalRProtocol.MaxMessageBytes)
                        {
                            throw new InvalidDataException($"Client {client.Number}: a message larger than {SignalRProtocol.MaxMessageBytes} bytes.");
                        }

                        Array.Resize(ref buffer, length * 2);
                    }

                    client.ReceiveTimeout.CancelAfter(ReceiveTimeout);
                    var result = await socket.ReceiveAsync(buffer.AsMemory(length), client.ReceiveTimeout.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        if (!_stopping)
                        {
                            Fail(client, new WebSocketException($"Client {client.Number}: the server closed the WebSocket ({socket.CloseStatus} {socket.CloseStatusDescription})."));
                        }

                        return;
                    }

                    length += result.Count;
                    if (result.EndOfMessage)
                    {
                        break;
                    }
                }

                // The message is complete: every record ending in it arrived now.
                var receivedAt = Stopwatch.GetTimestamp();
                var consumed = ReadRecords(client, buffer.AsSpan(0, length), receivedAt, out var closed);
                buffer.AsSpan(consumed, length - consumed).CopyTo(buffer);
                length -= consumed;
                if (closed)
                {
                    if (!_stopping)
                    {
                        Fail(client, new WebSocketException($"Client {client.Number}: the server sent a close message."));
                    }

                    return;
                }
            }

            Fail(client, new InvalidOperationException($"Client {client.Number} received {MaxMessages} messages."));
        }
        catch (Exception exception) when (_stopping && exception is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // Disposing: the socket was aborted.
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or IOException or InvalidDataException)
        {
            Fail(client, exception is OperationCanceledException
                ? new TimeoutException($"Client {client.Number}: nothing received in {ReceiveTimeout.TotalSeconds} s.", exception)
                : exception);
        }
    }

    /// <summary>Reads the complete records at the start of <paramref name="data"/>; returns how many bytes they take.</summary>
    private int ReadRecords(Client client, ReadOnlySpan<byte> data, long receivedAt, out bool closed)
    {
        closed = false;
        var consumed = 0;
        int end;
        while (!closed && (end = data[consumed..].IndexOf(SignalRProtocol.RecordSeparator)) >= 0)
        {
            var record = data.Slice(consumed, end);
            consumed += end + 1;
            closed = !client.Receive(record, Book, receivedAt, ref _pings);
        }

        return consumed;
    }

    private async Task PingLoopAsync()
    {
        using var timer = new PeriodicTimer(PingInterval);
        var sends = new List<Task>();
        try
        {
            for (var round = 0; round < MaxPingRounds && await timer.WaitForNextTickAsync(_stopPings.Token); round++)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopPings.Token);
                timeout.CancelAfter(PingSendTimeout);
                sends.Clear();
                foreach (var client in _clients)
                {
                    if (client is { Ready: true, Socket.State: WebSocketState.Open })
                    {
                        sends.Add(PingAsync(client, timeout.Token));
                    }
                }

                await Task.WhenAll(sends);
            }
        }
        catch (OperationCanceledException)
        {
            // Disposing.
        }
    }

    private static async Task PingAsync(Client client, CancellationToken cancellationToken)
    {
        try
        {
            await client.Socket.SendAsync(Ping, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        catch (Exception exception) when (exception is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // A send that fails or times out aborts the socket, and the client's receive loop counts the failure.
        }
    }

    private void Fail(Client client, Exception exception)
    {
        Interlocked.Increment(ref _failures);
        Interlocked.CompareExchange(ref _firstFailure, exception.Message, null);
        client.Handshake.TrySetException(exception);
    }

    private sealed class Client(int number, ClientWebSocket socket, CancellationToken abort) : SignalRClientState(number), IDisposable
    {
        public ClientWebSocket Socket { get; } = socket;

        /// <summary>Rescheduled before every receive; cancelling it (or the fleet's abort) aborts the socket.</summary>
        public CancellationTokenSource ReceiveTimeout { get; } = CancellationTokenSource.CreateLinkedTokenSource(abort);

        /// <summary>Joined: the pinger may send.</summary>
        public volatile bool Ready;

        public Task Loop { get; set; } = Task.CompletedTask;

        public void Dispose()
        {
            Socket.Dispose();
            ReceiveTimeout.Dispose();
        }
    }
}
