using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Comety.Tests.Infrastructure;

/// <summary>
/// An HTTP proxy in front of a <see cref="TestHost"/>, on Kestrel at 127.0.0.1 on a free port, as the
/// networks between a browser and a server have them: one that buffers each response and sends it
/// only once it is complete (so a stream never gets through), or one that passes bytes on as they
/// come and can be told to cut a stream in the middle of an event.
/// </summary>
public sealed class TestProxy : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Proxy-Connection", "Host",
    };

    private readonly WebApplication _app;
    private readonly HttpClient _client;
    private readonly Uri _target;
    private readonly bool _buffer;
    private readonly ConcurrentQueue<(string Accept, string? LastEventId)> _forwarded = new();
    private TaskCompletionSource? _cut;
    private volatile bool _refusing;
    private int _refused;

    private TestProxy(WebApplication app, Uri target, bool buffer)
    {
        _app = app;
        _target = target;
        _buffer = buffer;
        _client = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public Uri BaseAddress { get; private set; } = default!;

    /// <summary>The <c>Accept</c> and <c>Last-Event-ID</c> headers of every GET the proxy forwarded to the updates URL, in order.</summary>
    public IReadOnlyList<(string Accept, string? LastEventId)> ForwardedUpdates => [.. _forwarded];

    /// <summary>
    /// Gets or sets whether the proxy drops every new connection's request at once, as a network
    /// that is down does (streams already open go on).
    /// </summary>
    public bool Refusing
    {
        get => _refusing;
        set => _refusing = value;
    }

    /// <summary>How many requests the proxy dropped while <see cref="Refusing"/>.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>How many of those asked for a stream.</summary>
    public int ForwardedStreams => _forwarded.Count(static r => IsStream(r.Accept));

    /// <summary>Starts a proxy to <paramref name="target"/> that buffers whole responses (<paramref name="buffer"/>) or passes bytes on as they come.</summary>
    public static async Task<TestProxy> StartAsync(Uri target, bool buffer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var proxy = new TestProxy(app, target, buffer);
        app.Run(proxy.ForwardAsync);
        await app.StartAsync();
        proxy.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return proxy;
    }

    public static bool IsStream(string accept) => accept.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Arms a cut: the next piece of a stream that holds an event is passed on only to the middle of
    /// the event's <c>data</c> line, and then the connection to the browser is dropped. The task
    /// completes when that happened.
    /// </summary>
    public Task CutInsideNextEventAsync()
    {
        var cut = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _cut, cut);
        return cut.Task;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(TimeSpan.FromSeconds(5));
        await _app.DisposeAsync();
        _client.Dispose();
    }

    private async Task ForwardAsync(HttpContext context)
    {
        if (_refusing)
        {
            Interlocked.Increment(ref _refused);
            context.Abort();
            return;
        }

        var aborted = context.RequestAborted;
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(_target, context.Request.PathBase.Add(context.Request.Path).ToUriComponent() + context.Request.QueryString.ToUriComponent()));
        if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(context.Request.Body);
        }

        foreach (var (name, values) in context.Request.Headers)
        {
            if (!HopByHop.Contains(name) && !request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        if (HttpMethods.IsGet(context.Request.Method) && context.Request.Path.StartsWithSegments("/test/updates"))
        {
            _forwarded.Enqueue((context.Request.Headers.Accept.ToString(), context.Request.Headers["Last-Event-ID"].FirstOrDefault()));
        }

        HttpResponseMessage response;
        try
        {
            // Buffering: the whole body is read before anything goes back, as a proxy that buffers does.
            response = await _client.SendAsync(request, _buffer ? HttpCompletionOption.ResponseContentRead : HttpCompletionOption.ResponseHeadersRead, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The browser went away first (it gave up waiting): so does the request to the server.
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!HopByHop.Contains(name) && !(_buffer && name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }

            if (_buffer)
            {
                var body = await response.Content.ReadAsByteArrayAsync(aborted);
                context.Response.ContentLength = body.Length;
                await context.Response.Body.WriteAsync(body, aborted);
                return;
            }

            await PassOnAsync(context, response, aborted);
        }
    }

    private async Task PassOnAsync(HttpContext context, HttpResponseMessage response, CancellationToken aborted)
    {
        await using var body = await response.Content.ReadAsStreamAsync(aborted);
        await context.Response.StartAsync(aborted);
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer, aborted)) > 0)
            {
                var length = read;
                var cut = Volatile.Read(ref _cut);
                var at = cut is null ? -1 : Encoding.UTF8.GetString(buffer, 0, read).IndexOf("data: [", StringComparison.Ordinal);
                if (at >= 0)
                {
                    // ASCII up to the event's data line: the character index is the byte index.
                    length = Math.Min(read, at + "data: [".Length + 3);
                }

                await context.Response.Body.WriteAsync(buffer.AsMemory(0, length), aborted);
                await context.Response.Body.FlushAsync(aborted);
                if (at >= 0 && Interlocked.CompareExchange(ref _cut, null, cut) == cut)
                {
                    context.Abort();
                    cut!.TrySetResult();
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // Either side went away.
        }
    }
}
