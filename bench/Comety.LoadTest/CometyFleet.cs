using System.Buffers;
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
    private long _failures;

    public CometyFleet(IReadOnlyList<Uri> servers, EventBook book, SourceAddresses? sources = null)
        : base(servers[0], book, sources)
    {
        _http = LoadHttp.CreateClient(servers[0], Sources);
        _servers = new ServerChoice(servers);
    }

    public override long Failures => Interlocked.Read(ref _failures);

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

                using var request = new HttpRequestMessage(HttpMethod.Get, ServerChoice.Resolve(_servers, url.ToString()));
                request.Headers.Add("Cookie", client.Cookie);
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Fail(client, $"poll answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(token)}");
                    return;
                }

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

                answeredAt = Stopwatch.GetTimestamp();
                confirm = HandOver(client.Index, buffer.AsSpan(0, length), answeredAt);
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
