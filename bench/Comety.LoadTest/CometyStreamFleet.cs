using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Comety.LoadTest;

/// <summary>
/// Simulated browsers on Comety's stream (PROTOCOL.md, "Stream (version 2)"): each registers and
/// subscribes to its room (<see cref="CometyUser"/>), then opens a stream, <c>GET /updates</c> with
/// <c>Accept: text/event-stream</c>, on a connection of its own spoken by hand (HTTP/1.1, one buffer,
/// the Server-Sent Events parsed as the bytes arrive, no allocation per event). When a stream ends
/// (<c>comety-end</c>) the client opens the next one from the end's <c>lastId</c> on the same
/// connection; when a stream is cut (the connection breaks, or no byte arrives for twice the stream's
/// keep-alive interval) it reconnects at once with <c>Last-Event-ID</c>, its last event's id. A
/// <c>comety-problem</c>, or an error answer before the stream, is a client failure, handled as the
/// script handles the status: 409 starts again without a position (a page reload), 429 and 503 retry
/// after a second, anything else stops the client.
/// </summary>
internal sealed class CometyStreamFleet : Fleet
{
    /// <summary>Sent as a poll's <c>timeout</c> (a version 1 server would answer the same request as a poll); unused by a stream.</summary>
    private const int TimeoutSeconds = 60;

    /// <summary>Streams one client opens at most; one per <c>StreamDuration</c> or cut, so far beyond any run.</summary>
    private const int MaxStreamsPerClient = 1_000_000;

    /// <summary>Body pieces one stream takes at most.</summary>
    private const int MaxPiecesPerStream = 100_000_000;

    /// <summary>Failures in a row (no stream opened between them) after which a client gives up.</summary>
    private const int MaxFailuresInARow = 20;

    /// <summary>The watchdog's rounds at most: a week of them.</summary>
    private const int MaxWatchRounds = 7 * 24 * 3600 * 4;

    /// <summary>The server's default <c>StreamKeepAliveInterval</c>, until a stream's opening message says otherwise.</summary>
    private const double DefaultKeepAliveSeconds = 15;

    private const string DeliberateCut = "cut on purpose";

    /// <summary>From the start of a client's registration to its first stream's opening message.</summary>
    private static readonly TimeSpan OpenTimeout = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>How long disposing may wait for the receive loops to end.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly IPEndPoint _endpoint;
    private readonly string _host;
    private readonly string _path;
    private readonly TimeSpan? _cutAfter;
    private readonly CancellationTokenSource _stop = new();
    private Client?[] _clients = [];
    private Task _watchdog = Task.CompletedTask;
    private volatile bool _stopping;
    private string? _firstFailure;
    private long _failures;
    private long _opened;
    private long _ended;
    private long _cuts;
    private long _deliberateCuts;
    private long _problems;
    private long _keepAlives;

    /// <param name="server">The Comety load-test server's base address (an IP address, not a name).</param>
    /// <param name="book">Where every client records its ticks.</param>
    /// <param name="sources">The addresses the clients' sockets are bound to, in turn.</param>
    /// <param name="cutAfter">
    /// When set, each stream's connection is closed by the client after 0.5 to 1.5 times this long
    /// (chosen at random per stream) and the client resumes with <c>Last-Event-ID</c>: a check that
    /// resuming loses and repeats nothing. Not for measured runs.
    /// </param>
    public CometyStreamFleet(Uri server, EventBook book, SourceAddresses? sources = null, TimeSpan? cutAfter = null)
        : base(server, book, sources)
    {
        _http = LoadHttp.CreateClient(server, Sources);
        _endpoint = new IPEndPoint(IPAddress.Parse(server.Host), server.Port);
        _host = server.Authority;
        _path = new Uri(server, "updates").AbsolutePath;
        _cutAfter = cutAfter;
    }

    public override long Failures => Interlocked.Read(ref _failures);

    /// <summary>Why the first failed client failed, for the log; null while none has.</summary>
    public string? FirstFailure => Volatile.Read(ref _firstFailure);

    public override string Report => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"streams: {Interlocked.Read(ref _opened):N0} opened, {Interlocked.Read(ref _ended):N0} ended by the server (comety-end), {Interlocked.Read(ref _deliberateCuts):N0} cut on purpose, {Interlocked.Read(ref _cuts):N0} cut otherwise, {Interlocked.Read(ref _problems):N0} comety-problem; {Interlocked.Read(ref _keepAlives):N0} keep-alives; {Failures} failures{(FirstFailure is { } first ? ", the first: " + first : "")}");

    public override async Task ConnectAsync(int count, int concurrency, CancellationToken cancellationToken)
    {
        if (_clients.Length != 0)
        {
            throw new InvalidOperationException("A fleet connects once.");
        }

        _clients = new Client?[count];
        _watchdog = WatchAsync();
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (c, ct) =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(OpenTimeout);
            var user = await CometyUser.RegisterAsync(_http, c, timeout.Token);
            var client = new Client(this, user);
            Volatile.Write(ref _clients[c], client);
            client.Loop = Task.Run(client.RunAsync, CancellationToken.None);

            // Connecting a few at a time keeps the server's listen backlog out of the figures.
            await client.FirstOpen.Task.WaitAsync(timeout.Token);
        });
    }

    public override async ValueTask DisposeAsync()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        await _stop.CancelAsync();
        var clients = _clients.OfType<Client>().ToArray();
        foreach (var client in clients)
        {
            client.DropSocket();
        }

        try
        {
            await Task.WhenAll(clients.Select(c => c.Loop)).WaitAsync(CloseTimeout);
        }
        catch (TimeoutException)
        {
            // Sockets are closed; a loop that has not noticed yet ends on its own.
        }

        await _watchdog;
        await CometyUser.LogoutAsync(_http, clients.Select(c => c.User));
        _http.Dispose();
        _stop.Dispose();
    }

    private void Fail(Client client, string reason)
    {
        Interlocked.Increment(ref _failures);
        Interlocked.CompareExchange(ref _firstFailure, $"client {client.User.Index}: {reason}", null);
    }

    /// <summary>Cuts the streams that have been silent too long, and those due to be cut on purpose.</summary>
    private async Task WatchAsync()
    {
        using var timer = new PeriodicTimer(WatchInterval);
        try
        {
            for (var round = 0; round < MaxWatchRounds && await timer.WaitForNextTickAsync(_stop.Token); round++)
            {
                var now = Stopwatch.GetTimestamp();
                foreach (var client in _clients)
                {
                    client?.Watch(now);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposing.
        }
    }

    private enum Next
    {
        /// <summary>Open the next stream at once, from the position.</summary>
        Resume,

        /// <summary>Open the next stream after <see cref="RetryDelay"/>.</summary>
        Retry,

        /// <summary>The client stops.</summary>
        Stop,
    }

    /// <summary>One simulated browser: its connection, its buffers, its position in the stream of events.</summary>
    private sealed class Client(CometyStreamFleet fleet, CometyUser user) : IServerSentEventSink
    {
        private readonly Http1ResponseReader _reader = new(4096);
        private readonly ServerSentEventParser _parser = new();
        private readonly byte[] _request = new byte[1024];
        private Socket? _socket;
        private string? _cutReason;
        private long _cutAt;
        private long _silenceLimit = SecondsToTicks(2 * DefaultKeepAliveSeconds + 5);

        /// <summary>The last event handled (or the <c>lastId</c> of the last <c>comety-end</c>); -1 for none yet.</summary>
        private long _position = -1;

        /// <summary>The position the current stream was asked to start from, -1 for none.</summary>
        private long _requested;

        /// <summary>When the piece being parsed arrived.</summary>
        private long _receivedAt;

        private bool _open;
        private bool _ended;
        private int _problemStatus;
        private string? _problem;

        public CometyUser User { get; } = user;

        public TaskCompletionSource FirstOpen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Loop { get; set; } = Task.CompletedTask;

        public async Task RunAsync()
        {
            var failuresInARow = 0;
            for (var stream = 0; stream < MaxStreamsPerClient && !fleet._stopping; stream++)
            {
                Next next;
                try
                {
                    next = await StreamAsync();
                }
                catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException or InvalidDataException or JsonException or OperationCanceledException)
                {
                    if (fleet._stopping)
                    {
                        break;
                    }

                    var wasOpen = _open;
                    DropSocket();
                    var reason = Interlocked.Exchange(ref _cutReason, null);
                    if (reason == DeliberateCut)
                    {
                        Interlocked.Increment(ref fleet._deliberateCuts);
                    }
                    else
                    {
                        Interlocked.Increment(ref fleet._cuts);
                        Fail(reason ?? $"{exception.GetType().Name}: {exception.Message}");
                    }

                    // A stream that worked and was then cut resumes at once; one that did not open waits first.
                    next = wasOpen ? Next.Resume : Next.Retry;
                }

                failuresInARow = _open ? 0 : failuresInARow + 1;

                if (next == Next.Stop || failuresInARow > MaxFailuresInARow)
                {
                    if (failuresInARow > MaxFailuresInARow)
                    {
                        Fail($"gave up after {MaxFailuresInARow} failures in a row");
                    }

                    break;
                }

                if (next == Next.Retry)
                {
                    try
                    {
                        await Task.Delay(RetryDelay, fleet._stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }
            }

            DropSocket();
            FirstOpen.TrySetException(new InvalidOperationException($"Client {User.Index} stopped before its stream opened: {fleet.FirstFailure}"));
        }

        /// <summary>One stream, from the request to the end of its response.</summary>
        private async Task<Next> StreamAsync()
        {
            _open = false;
            _ended = false;
            _problemStatus = 0;
            var socket = _socket;
            if (socket is null)
            {
                Volatile.Write(ref _cutReason, null);
                socket = await fleet.Sources.ConnectAsync(fleet._endpoint, fleet._stop.Token);
                _reader.Reset();
                Volatile.Write(ref _socket, socket);
            }

            _requested = _position;
            var length = WriteRequest();
            if (fleet._cutAfter is { } cutAfter)
            {
                Volatile.Write(ref _cutAt, Stopwatch.GetTimestamp() + (long)(cutAfter.TotalSeconds * (0.5 + Random.Shared.NextDouble()) * Stopwatch.Frequency));
            }

            // No cancellation token on the socket calls: stopping closes the socket, which ends them.
            await socket.SendAsync(_request.AsMemory(0, length), SocketFlags.None);
            var head = await _reader.ReadHeadAsync(socket, CancellationToken.None);
            if (head.Status != 200)
            {
                var body = await _reader.ReadBodyTextAsync(socket, CancellationToken.None);
                EndResponse();
                Fail($"the stream answered {head.Status} before it started: {body}");
                return AfterProblem(head.Status);
            }

            if (!head.EventStream)
            {
                EndResponse();
                Fail("the stream answered 200 without text/event-stream (a version 1 poll answer?)");
                return Next.Stop;
            }

            _parser.Reset();
            for (var piece = 0; piece < MaxPiecesPerStream; piece++)
            {
                var bytes = await _reader.ReadBodyAsync(socket, CancellationToken.None);
                if (bytes.IsEmpty)
                {
                    break;
                }

                _receivedAt = _reader.LastReceiveAt;
                _parser.Push(bytes.Span, this);
            }

            EndResponse();
            if (_problemStatus != 0)
            {
                Fail($"comety-problem {_problem}");
                return AfterProblem(_problemStatus);
            }

            if (!_ended)
            {
                throw new IOException("The stream's response ended without comety-end.");
            }

            Interlocked.Increment(ref fleet._ended);
            return Next.Resume;
        }

        /// <summary>What the script does after a status, before or during a stream (PROTOCOL.md).</summary>
        private Next AfterProblem(int status)
        {
            switch (status)
            {
                case 409:
                    // Resynchronise: a page reloads and starts from what is current; the events in between count as lost.
                    _position = -1;
                    return Next.Resume;
                case 429 or 503:
                    return Next.Retry;
                default:
                    return Next.Stop;
            }
        }

        /// <summary>The response is read: no cut is due any more; the connection closes unless it may carry the next request.</summary>
        private void EndResponse()
        {
            Volatile.Write(ref _cutAt, 0);
            if (!_reader.KeepAlive)
            {
                DropSocket();
            }
        }

        private int WriteRequest()
        {
            var span = _request.AsSpan();
            var ok = Utf8.TryWrite(span, $"GET {fleet._path}?timeout={TimeoutSeconds}", out var written);
            if (ok && _requested >= 0)
            {
                ok = Utf8.TryWrite(span[written..], $"&confirm={_requested}", out var more);
                written += more;
            }

            if (ok)
            {
                ok = Utf8.TryWrite(span[written..], $" HTTP/1.1\r\nHost: {fleet._host}\r\nAccept: text/event-stream\r\nCookie: {User.Cookie}\r\n", out var more);
                written += more;
            }

            if (ok && _requested >= 0)
            {
                ok = Utf8.TryWrite(span[written..], $"Last-Event-ID: {_requested}\r\n", out var more);
                written += more;
            }

            if (!ok || written + 2 > span.Length)
            {
                throw new InvalidOperationException("The stream request does not fit its buffer.");
            }

            span[written++] = (byte)'\r';
            span[written++] = (byte)'\n';
            return written;
        }

        public void OnMessage(ReadOnlySpan<byte> type, ReadOnlySpan<byte> data, ReadOnlySpan<byte> lastEventId)
        {
            if (type.IsEmpty || type.SequenceEqual("message"u8))
            {
                ReadTick(data, out var index, out var sentAt, out var sequence);
                if (!Utf8Parser.TryParse(lastEventId, out long id, out var used) || used != lastEventId.Length || id != sequence)
                {
                    throw new InvalidDataException($"An event whose id ({Encoding.UTF8.GetString(lastEventId)}) is not its sequence number ({sequence}).");
                }

                _position = sequence;
                fleet.Book.Record(User.Index, index, sentAt, _receivedAt);
            }
            else if (type.SequenceEqual("comety-stream"u8))
            {
                // The opening states no position: the client knows its own (PROTOCOL.md).
                var keepAlive = ReadKeepAlive(data);
                Volatile.Write(ref _silenceLimit, SecondsToTicks((2 * keepAlive) + 5));
                _open = true;
                Interlocked.Increment(ref fleet._opened);
                FirstOpen.TrySetResult();
            }
            else if (type.SequenceEqual("comety-end"u8))
            {
                var lastId = ReadNumber(data, "lastId"u8);
                if (lastId < _position)
                {
                    throw new InvalidDataException($"comety-end's lastId {lastId} is before the last event, {_position}.");
                }

                _position = lastId;
                _ended = true;
            }
            else if (type.SequenceEqual("comety-problem"u8))
            {
                _problemStatus = (int)ReadNumber(data, "status"u8);
                _problem = Encoding.UTF8.GetString(data);
                Interlocked.Increment(ref fleet._problems);
            }
            else
            {
                throw new InvalidDataException("An event type PROTOCOL.md does not have: " + Encoding.UTF8.GetString(type));
            }
        }

        public void OnComment(ReadOnlySpan<byte> text) => Interlocked.Increment(ref fleet._keepAlives);

        /// <summary>Called by the fleet's watchdog: cuts the connection when it is due or silent too long.</summary>
        public void Watch(long now)
        {
            if (Volatile.Read(ref _socket) is null)
            {
                return;
            }

            var cutAt = Volatile.Read(ref _cutAt);
            if (cutAt != 0 && now >= cutAt)
            {
                Cut(DeliberateCut);
            }
            else if (now - _reader.LastReceiveAt > Volatile.Read(ref _silenceLimit))
            {
                Cut($"no byte for {Volatile.Read(ref _silenceLimit) / (double)Stopwatch.Frequency:0} s");
            }
        }

        private void Cut(string reason)
        {
            if (Interlocked.CompareExchange(ref _cutReason, reason, null) is null)
            {
                Volatile.Write(ref _cutAt, 0);
                Volatile.Read(ref _socket)?.Dispose();
            }
        }

        public void DropSocket() => Interlocked.Exchange(ref _socket, null)?.Dispose();

        private void Fail(string reason) => fleet.Fail(this, reason);

        /// <summary>Reads an event's <c>[sender, args, seq]</c> whose args are a tick's <c>{"event":"tick","i":…,"t":…}</c>.</summary>
        private static void ReadTick(ReadOnlySpan<byte> json, out int index, out long sentAt, out long sequence)
        {
            var reader = new Utf8JsonReader(json);
            Expect(reader.Read() && reader.TokenType == JsonTokenType.StartArray);
            Expect(reader.Read());
            reader.Skip();
            Expect(reader.Read());
            TickArgs.Read(ref reader, out index, out sentAt);
            Expect(reader.Read() && reader.TokenType == JsonTokenType.Number);
            sequence = reader.GetInt64();
            Expect(reader.Read() && reader.TokenType == JsonTokenType.EndArray);
        }

        /// <summary>The opening message's <c>keepAlive</c>, in seconds.</summary>
        private static double ReadKeepAlive(ReadOnlySpan<byte> json)
        {
            var reader = new Utf8JsonReader(json);
            var keepAlive = DefaultKeepAliveSeconds;
            Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isKeepAlive = reader.ValueTextEquals("keepAlive"u8);
                reader.Read();
                if (isKeepAlive)
                {
                    keepAlive = reader.GetDouble();
                }
                else
                {
                    reader.Skip();
                }
            }

            Expect(keepAlive > 0);
            return keepAlive;
        }

        private static long ReadNumber(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name)
        {
            var reader = new Utf8JsonReader(json);
            Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var match = reader.ValueTextEquals(name);
                reader.Read();
                if (match && reader.TokenType == JsonTokenType.Number)
                {
                    return reader.GetInt64();
                }

                reader.Skip();
            }

            throw new JsonException($"No number \"{Encoding.UTF8.GetString(name)}\" in {Encoding.UTF8.GetString(json)}.");
        }

        private static void Expect(bool condition)
        {
            if (!condition)
            {
                throw new JsonException("A stream message does not have the shape PROTOCOL.md gives.");
            }
        }

        private static long SecondsToTicks(double seconds) => (long)(seconds * Stopwatch.Frequency);
    }
}
