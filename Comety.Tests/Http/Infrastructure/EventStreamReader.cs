using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Comety.Tests.Infrastructure;

namespace Comety.Tests.Http.Infrastructure;

/// <summary>One message of a stream as it came over the wire: its fields, or a comment.</summary>
internal sealed record StreamMessage(string? Id, string? Event, string? Data, string? Retry, bool IsComment)
{
    public JsonElement Json => JsonDocument.Parse(Data!).RootElement;

    /// <summary>The event's <c>[sender, args, seq]</c> array read as a poll's event.</summary>
    public WireEvent AsEvent()
    {
        var array = Json;
        return new WireEvent(array[0], array[1], array[2].GetInt64());
    }
}

/// <summary>
/// Opens a stream of the test application's updates URL and reads its Server-Sent Events one
/// message at a time, each read bounded, as a strict client would (every line must be a field
/// of the protocol or a comment).
/// </summary>
internal sealed class EventStreamReader : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private EventStreamReader(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _reader = new StreamReader(body, new UTF8Encoding(false, throwOnInvalidBytes: true));
    }

    public HttpResponseMessage Response => _response;

    /// <summary>Sends the stream request; returns the response with its headers read and the body not yet.</summary>
    public static async Task<HttpResponseMessage> RequestAsync(HttpClient client, string query = "", string? lastEventId = null, string url = CometyHttp.UpdatesUrl, string accept = "text/event-stream")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(query.Length == 0 ? url : $"{url}?{query}", UriKind.Relative))
        {
            Version = client.DefaultRequestVersion,
            VersionPolicy = client.DefaultVersionPolicy,
        };
        request.Headers.Accept.Clear();
        request.Headers.TryAddWithoutValidation("Accept", accept);
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).Bounded();
    }

    /// <summary>Opens a stream that must start: 200, <c>text/event-stream</c>, and the opening message first.</summary>
    public static async Task<(EventStreamReader Reader, StreamMessage Opening)> OpenAsync(
        HttpClient client, string query = "", string? lastEventId = null, string url = CometyHttp.UpdatesUrl, string accept = "text/event-stream")
    {
        var response = await RequestAsync(client, query, lastEventId, url, accept);
        if (response.StatusCode != System.Net.HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsStringAsync().Bounded();
            response.Dispose();
            Assert.Fail($"Expected a stream, got {(int)response.StatusCode}: {body}");
        }

        Assert.Equal(new MediaTypeHeaderValue("text/event-stream"), response.Content.Headers.ContentType);
        var reader = new EventStreamReader(response, await response.Content.ReadAsStreamAsync().Bounded());
        var opening = await reader.NextAsync();
        Assert.Equal("comety-stream", opening!.Event);
        return (reader, opening);
    }

    /// <summary>Reads the next message or comment; null when the server completed the response.</summary>
    public async Task<StreamMessage?> NextAsync()
    {
        string? id = null, type = null, data = null, retry = null;
        var any = false;
        var comment = false;
        while (true)
        {
            var line = await _reader.ReadLineAsync().Bounded();
            if (line is null)
            {
                Assert.False(any, "The stream ended in the middle of a message.");
                return null;
            }

            if (line.Length == 0)
            {
                if (any)
                {
                    return new StreamMessage(id, type, data, retry, comment && id is null && type is null && data is null);
                }

                continue;
            }

            any = true;
            if (line[0] == ':')
            {
                comment = true;
                continue;
            }

            var colon = line.IndexOf(':');
            Assert.True(colon > 0, $"Not a field: '{line}'.");
            var value = line[(colon + 1)..];
            value = value.StartsWith(' ') ? value[1..] : value;
            switch (line[..colon])
            {
                case "id": id = value; break;
                case "event": type = value; break;
                case "data": Assert.Null(data); data = value; break;
                case "retry": retry = value; break;
                default: Assert.Fail($"Unknown field: '{line}'."); break;
            }
        }
    }

    /// <summary>Reads messages until <paramref name="count"/> events have come, failing on anything but events.</summary>
    public async Task<List<WireEvent>> EventsAsync(int count)
    {
        var events = new List<WireEvent>();
        while (events.Count < count)
        {
            var message = await NextAsync();
            Assert.NotNull(message);
            Assert.True(message.Event is null && message.Data is not null, $"Expected an event, got event '{message.Event}' data '{message.Data}'.");
            var e = message.AsEvent();
            Assert.Equal(e.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture), message.Id);
            events.Add(e);
        }

        return events;
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
