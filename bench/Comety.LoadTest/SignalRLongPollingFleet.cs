using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Comety.LoadTest;

/// <summary>
/// Clients of the SignalR hub at <c>/hub</c> on the long-polling transport, speaking the JSON hub
/// protocol as SignalR's own clients do, over one shared <see cref="HttpClient"/>: negotiate, a
/// first poll (answered at once), the handshake, then polls one after the other, each answered
/// with the records that arrived since the last one. Sends (handshake, Join) are POSTs of their own.
/// </summary>
internal sealed class SignalRLongPollingFleet : Fleet
{
    /// <summary>A negotiate, a send, or the whole connection of one client.</summary>
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The server answers a waiting poll after 90 s at the latest (its PollTimeout), with nothing if nothing came.</summary>
    private static readonly TimeSpan PollTimeout = TimeSpan.FromSeconds(150);

    /// <summary>How long disposing may take in all: the DELETEs, then the loops ending.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Polls one client makes at most; one poll per event or per 90 s, so far beyond any run.</summary>
    private const int MaxPolls = 1_000_000;

    private const int CloseConcurrency = 50;

    private static readonly byte[] HandshakeRequest = SignalRProtocol.HandshakeRequest.ToArray();
    private static readonly MediaTypeHeaderValue TextPlain = MediaTypeHeaderValue.Parse("text/plain; charset=UTF-8");

    private readonly HttpClient _http;
    private readonly Uri _negotiate;
    private readonly CancellationTokenSource _stop = new();
    private Client?[] _clients = [];
    private long _failures;
    private long _pings;
    private string? _firstFailure;
    private volatile bool _stopping;

    public SignalRLongPollingFleet(Uri server, EventBook book, SourceAddresses? sources = null)
        : base(server, book, sources)
    {
        _http = LoadHttp.CreateClient(server, Sources);
        _negotiate = new Uri(server, "hub/negotiate?negotiateVersion=1");
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

        // What SignalR's browser client does when it stops: abort the waiting poll, then DELETE the connection.
        _stopping = true;
        await _stop.CancelAsync();
        using var deadline = new CancellationTokenSource(CloseTimeout);
        var clients = _clients.OfType<Client>().ToArray();
        try
        {
            await Parallel.ForEachAsync(
                clients,
                new ParallelOptions { MaxDegreeOfParallelism = CloseConcurrency, CancellationToken = deadline.Token },
                async (client, ct) =>
                {
                    try
                    {
                        using var response = await _http.DeleteAsync(client.Uri, ct);
                    }
                    catch (HttpRequestException)
                    {
                        // The server is gone already; nothing to close.
                    }
                });
            await Task.WhenAll(clients.Select(c => c.Loop)).WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            // Out of time: what is left is closed with the client below.
        }

        _http.Dispose();
        _stop.Dispose();
    }

    private async Task ConnectClientAsync(int number, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        timeout.CancelAfter(RequestTimeout);

        string token;
        using (var response = await _http.PostAsync(_negotiate, content: null, timeout.Token))
        {
            response.EnsureSuccessStatusCode();
            token = ReadConnectionToken(await response.Content.ReadAsByteArrayAsync(timeout.Token));
        }

        var client = new Client(number, new Uri(Server, "hub?id=" + Uri.EscapeDataString(token)));
        _clients[number] = client;

        // The first poll of a connection is answered at once, with nothing: it tells the client the transport is up.
        using (var response = await _http.GetAsync(client.Uri, HttpCompletionOption.ResponseContentRead, timeout.Token))
        {
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new HttpRequestException($"Client {number}: the first poll was answered {(int)response.StatusCode}.");
            }
        }

        await SendAsync(client, HandshakeRequest, timeout.Token);
        client.Loop = PollLoopAsync(client);

        // The handshake response comes on a poll; only then does the client invoke anything.
        await client.Handshake.Task.WaitAsync(timeout.Token);
        await SendAsync(client, SignalRProtocol.JoinInvocation(Rooms.Name(number % Rooms.Count)), timeout.Token);
    }

    private async Task SendAsync(Client client, byte[] payload, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(payload);
        content.Headers.ContentType = TextPlain;
        using var response = await _http.PostAsync(client.Uri, content, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    private async Task PollLoopAsync(Client client)
    {
        // Runs on the thread pool from the start, so that a connecting client does not run its first poll inline.
        await Task.Yield();
        try
        {
            for (var poll = 0; poll < MaxPolls; poll++)
            {
                if (!await PollAsync(client))
                {
                    return;
                }
            }

            Fail(client, new InvalidOperationException($"Client {client.Number} made {MaxPolls} polls."));
        }
        catch (Exception exception) when (_stopping && exception is OperationCanceledException or HttpRequestException or IOException or ObjectDisposedException)
        {
            // Disposing: the poll was aborted, or its connection closed under it.
        }
        catch (Exception exception) when (exception is OperationCanceledException or HttpRequestException or IOException or InvalidDataException)
        {
            Fail(client, exception is OperationCanceledException
                ? new TimeoutException($"Client {client.Number}: a poll had no answer in {PollTimeout.TotalSeconds} s.", exception)
                : exception);
        }
    }

    /// <summary>Makes one poll and handles its answer; false when the connection has ended.</summary>
    private async Task<bool> PollAsync(Client client)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(PollTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, client.Uri);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            // The server ended the connection.
            if (!_stopping)
            {
                Fail(client, new HttpRequestException($"Client {client.Number}: the server ended the connection (204)."));
            }

            return false;
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new HttpRequestException($"Client {client.Number}: a poll was answered {(int)response.StatusCode}.");
        }

        // The buffer is taken only once an answer has come, so that waiting clients hold none.
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            var length = 0;
            await using (var body = await response.Content.ReadAsStreamAsync(timeout.Token))
            {
                int read;
                do
                {
                    if (length == buffer.Length)
                    {
                        buffer = Grow(buffer, length);
                    }

                    read = await body.ReadAsync(buffer.AsMemory(length), timeout.Token);
                    length += read;
                }
                while (read != 0);
            }

            var receivedAt = Stopwatch.GetTimestamp();
            if (!ReadRecords(client, buffer.AsSpan(0, length), receivedAt))
            {
                if (!_stopping)
                {
                    Fail(client, new HttpRequestException($"Client {client.Number}: the server sent a close message."));
                }

                return false;
            }

            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads a poll's records; false when one was a close message.</summary>
    private bool ReadRecords(Client client, ReadOnlySpan<byte> data, long receivedAt)
    {
        while (!data.IsEmpty)
        {
            var end = data.IndexOf(SignalRProtocol.RecordSeparator);
            if (end < 0)
            {
                throw new InvalidDataException($"Client {client.Number}: a poll's answer ends inside a record.");
            }

            var record = data[..end];
            data = data[(end + 1)..];
            if (!client.Receive(record, Book, receivedAt, ref _pings))
            {
                return false;
            }
        }

        return true;
    }

    private void Fail(Client client, Exception exception)
    {
        Interlocked.Increment(ref _failures);
        Interlocked.CompareExchange(ref _firstFailure, exception.Message, null);
        client.Handshake.TrySetException(exception);
    }

    private static byte[] Grow(byte[] buffer, int length)
    {
        if (length >= SignalRProtocol.MaxMessageBytes)
        {
            throw new InvalidDataException($"A poll's answer is larger than {SignalRProtocol.MaxMessageBytes} bytes.");
        }

        var larger = ArrayPool<byte>.Shared.Rent(length * 2);
        buffer.AsSpan(0, length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }

    private static string ReadConnectionToken(byte[] negotiateResponse)
    {
        var reader = new Utf8JsonReader(negotiateResponse);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("connectionToken"u8))
            {
                reader.Read();
                return reader.GetString() ?? throw new InvalidDataException("The negotiate response's connectionToken is null.");
            }
        }

        throw new InvalidDataException("The negotiate response has no connectionToken.");
    }

    private sealed class Client(int number, Uri uri) : SignalRClientState(number)
    {
        /// <summary><c>hub?id=&lt;connection token&gt;</c>: where the client polls, sends and finally DELETEs.</summary>
        public Uri Uri { get; } = uri;

        public Task Loop { get; set; } = Task.CompletedTask;
    }
}
