using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Comety.LoadTest;

/// <summary>
/// Simulated browsers speaking the Comety wire protocol (PROTOCOL.md) exactly as comety.js does:
/// each registers through the application and subscribes to its room (<see cref="CometyUser"/>),
/// then polls <c>GET /updates?timeout=…&amp;confirm=…&amp;elapsed=…</c>,
/// hands the events over, confirms the response's <c>lastId</c> with its next poll, and so on.
/// Given several servers (on one shared log), every request goes to one of them at random.
/// </summary>
internal sealed class CometyFleet : Fleet
{
    /// <summary>The <c>timeout</c> each poll sends, in seconds (the server holds a poll for half of it).</summary>
    private const int PollTimeoutSeconds = 60;

    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<CometyUser> _clients = [];
    private readonly List<Task> _loops = [];
    private readonly ServerChoice _servers;
    private readonly RetryPolicy? _retry;
    private readonly IPollObserver? _observer;
    private readonly ConcurrentDictionary<string, long> _errorKinds = new();
    private readonly ConcurrentDictionary<string, string> _firstOfKind = new();
    private long _failures;

    /// <param name="retry">How a failed poll (a network error, 429, 5xx) is tried again; null: such a failure stops the client and counts as one.</param>
    /// <param name="observer">Told of every poll's answer and of every failure retried, with the server it went to.</param>
    public CometyFleet(IReadOnlyList<Uri> servers, EventBook book, SourceAddresses? sources = null, RetryPolicy? retry = null, IPollObserver? observer = null)
        : base(servers[0], book, sources)
    {
        _http = LoadHttp.CreateClient(servers[0], Sources);
        _servers = new ServerChoice(servers);
        _retry = retry;
        _observer = observer;
    }

    /// <summary>Clients stopped by a failure they do not retry.</summary>
    public override long Failures => Interlocked.Read(ref _failures);

    /// <summary>Failed polls that were tried again, by kind (a status, or the HTTP client's and the socket's error).</summary>
    public IReadOnlyDictionary<string, long> RetriedFailures => new SortedDictionary<string, long>(_errorKinds, StringComparer.Ordinal);

    /// <summary>The first failure retried of each kind, with its message (a status's body).</summary>
    public IReadOnlyDictionary<string, string> FirstRetriedFailures => new SortedDictionary<string, string>(_firstOfKind, StringComparer.Ordinal);

    public override string? Report => _errorKinds.IsEmpty ? null
        : "polls failed and retried: " + string.Join(", ", RetriedFailures.Select(p => $"{p.Key} {p.Value}"));

    /// <summary>The first failure, for the report.</summary>
    public string? FirstFailure { get; private set; }

    public override async Task ConnectAsync(int count, int concurrency, CancellationToken cancellationToken)
    {
        var clients = new CometyUser[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (c, ct) =>
        {
            clients[c] = await CometyUser.RegisterAsync(_http, c, ct, _servers);
        });

        foreach (var client in clients)
        {
            _clients.Add(client);
            _loops.Add(Task.Run(() => PollLoopAsync(client), CancellationToken.None));
        }
    }

    private async Task PollLoopAsync(CometyUser client)
    {
        var token = _stop.Token;
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        long confirm = -1;
        var answeredAt = 0L;
        var retryDelay = TimeSpan.Zero;
        try
        {
            while (!token.IsCancellationRequested)
            {
                var url = new StringBuilder("updates?timeout=").Append(PollTimeoutSeconds);
                if (confirm >= 0)
                {
                    url.Append("&confirm=").Append(confirm);
                }

                if (answeredAt != 0)
                {
                    url.Append("&elapsed=").Append(Stopwatch.GetElapsedTime(answeredAt).TotalSeconds.ToString("0.######", CultureInfo.InvariantCulture));
                }

                var uri = ServerChoice.Resolve(_servers, url.ToString(), out var server);
                string failure, kind;
                bool retryable;
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                    request.Headers.Add("Cookie", client.Cookie);
                    using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        var status = (int)response.StatusCode;
                        failure = $"poll answered {status}: {await response.Content.ReadAsStringAsync(token)}";
                        kind = status.ToString(CultureInfo.InvariantCulture);
                        retryable = status >= 500 || status == 429;
                    }
                    else
                    {
                        var length = 0;
                        await using (var body = await response.Content.ReadAsStreamAsync(token))
                        {
                            int read;
                            while ((read = await body.ReadAsync(buffer.AsMemory(length), token)) > 0)
                            {
                                length += read;
                                if (length == buffer.Length)
                                {
                                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                                    buffer.AsSpan(0, length).CopyTo(larger);
                                    ArrayPool<byte>.Shared.Return(buffer);
                                    buffer = larger;
                                }
                            }
                        }

                        // Only a whole answer is handed over: a poll cut in its body hands nothing, and its retry asks from the same position.
                        answeredAt = Stopwatch.GetTimestamp();
                        confirm = HandOver(client.Index, buffer.AsSpan(0, length), answeredAt);
                        _observer?.Answered(client.Index, server, answeredAt);
                        retryDelay = TimeSpan.Zero;
                        continue;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or IOException && !token.IsCancellationRequested)
                {
                    failure = e.GetType().Name + ": " + e.Message;
                    kind = KindOf(e);
                    retryable = true;
                }

                if (_retry is null || !retryable)
                {
                    Fail(client, failure);
                    return;
                }

                // As comety.js does: the network or the server failed, try again from the same position, more and more slowly.
                _observer?.Failed(client.Index, server, Stopwatch.GetTimestamp(), kind);
                _errorKinds.AddOrUpdate(kind, 1, static (_, n) => n + 1);
                _firstOfKind.TryAdd(kind, $"client {client.Index}, server {server}: {failure}");
                retryDelay = retryDelay == TimeSpan.Zero ? _retry.First : TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, _retry.Max.Ticks));
                await Task.Delay(retryDelay, token);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException or InvalidOperationException)
        {
            Fail(client, e.GetType().Name + ": " + e.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A failed request's kind, for the report: the HTTP client's error and the socket's, such as <c>ConnectionError/ConnectionRefused</c>.</summary>
    private static string KindOf(Exception e)
    {
        var socket = e.InnerException as System.Net.Sockets.SocketException ?? e.InnerException?.InnerException as System.Net.Sockets.SocketException;
        var head = e is HttpRequestException http ? http.HttpRequestError.ToString() : e.GetType().Name;
        return socket is null ? head : head + "/" + socket.SocketErrorCode;
    }

    /// <summary>Records the response's ticks and returns what the next poll confirms: its <c>lastId</c>.</summary>
    private long HandOver(int client, ReadOnlySpan<byte> json, long receivedAt)
    {
        var reader = new Utf8JsonReader(json);
        long lastId = -1;
        Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("lastId"u8))
            {
                reader.Read();
                lastId = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("events"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null)
                {
                    continue;
                }

                Expect(reader.TokenType == JsonTokenType.StartArray);
                while (reader.Read() && reader.TokenType == JsonTokenType.StartArray)
                {
                    // [sender, args, seq]
                    reader.Read();
                    reader.Skip();
                    reader.Read();
                    TickArgs.Read(ref reader, out var index, out var sentAt);

                    reader.Read(); // seq
                    reader.Read();
                    Expect(reader.TokenType == JsonTokenType.EndArray);
                    Book.Record(client, index, sentAt, receivedAt);
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        Expect(lastId >= 0);
        return lastId;
    }

    private static void Expect(bool condition)
    {
        if (!condition)
        {
            throw new JsonException("The poll response does not have the shape PROTOCOL.md gives.");
        }
    }

    private void Fail(CometyUser client, string reason)
    {
        if (Interlocked.Increment(ref _failures) == 1)
        {
            FirstFailure = $"client {client.Index}: {reason}";
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(30));

        await CometyUser.LogoutAsync(_http, _clients, _servers);
        _http.Dispose();
        _stop.Dispose();
    }
}

/// <summary>
/// How a client tries a failed poll again: after <paramref name="First"/>, doubling after each
/// failure in a row up to <paramref name="Max"/>, from the same position; an answer resets it.
/// </summary>
internal sealed record RetryPolicy(TimeSpan First, TimeSpan Max)
{
    /// <summary>comety.js's defaults: <c>retryDelay</c> 1,000 ms, <c>maxRetryDelay</c> 30,000 ms.</summary>
    public static RetryPolicy Script { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
}

/// <summary>Hears how each poll of a fleet ended, and at which server (its index in the fleet's list).</summary>
internal interface IPollObserver
{
    /// <summary>A poll was answered 200 and its events handed over, at <paramref name="at"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    void Answered(int client, int server, long at);

    /// <summary>A poll failed and will be tried again after the backoff.</summary>
    void Failed(int client, int server, long at, string kind);
}
