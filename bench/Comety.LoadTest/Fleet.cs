namespace Comety.LoadTest;

/// <summary>
/// N simulated browsers of one implementation and transport, all in this process, each with its
/// own connection to the server. Every tick a client receives goes into the <see cref="EventBook"/>.
/// </summary>
internal abstract class Fleet : IAsyncDisposable
{
    protected Fleet(Uri server, EventBook book, SourceAddresses? sources)
    {
        Server = server;
        Book = book;
        Sources = sources ?? SourceAddresses.None;
    }

    /// <summary>The server's base address, such as <c>http://127.0.0.1:40123/</c>.</summary>
    protected Uri Server { get; }

    protected EventBook Book { get; }

    /// <summary>The loopback addresses the clients' sockets are bound to, in turn, before they connect.</summary>
    protected SourceAddresses Sources { get; }

    /// <summary>Clients that failed after connecting (an error response, a broken connection), so far.</summary>
    public abstract long Failures { get; }

    /// <summary>What the log should say about the fleet after a row (its transport's own counts), or null.</summary>
    public virtual string? Report => null;

    /// <summary>
    /// Connects clients <c>0 .. count-1</c> (at most <paramref name="concurrency"/> connecting at
    /// a time), puts client <c>c</c> in room <c>Rooms.Name(c % Rooms.Count)</c>, and starts each
    /// client's receive loop. Returns when every client is connected and in its room.
    /// </summary>
    public abstract Task ConnectAsync(int count, int concurrency, CancellationToken cancellationToken);

    /// <summary>Stops every client and closes its connection the way a browser leaving would.</summary>
    public abstract ValueTask DisposeAsync();
}
