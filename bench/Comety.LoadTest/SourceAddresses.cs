using System.Net;
using System.Net.Http;
using System.Net.Sockets;

namespace Comety.LoadTest;

/// <summary>
/// The loopback addresses the simulated clients connect from. With none, the kernel picks
/// 127.0.0.1 and one ephemeral port per connection, and the ports (32768 to 60999 here) bound the
/// number of connections to one server address. With k addresses, client sockets are bound in turn
/// to 127.0.0.2 .. 127.0.0.(k+1) before they connect, each address with its own range of ports.
/// Every 127.0.0.0/8 address is the loopback interface on Linux: nothing to configure. The servers
/// still listen on 127.0.0.1 only.
/// </summary>
internal sealed class SourceAddresses
{
    /// <summary>At most this many addresses: 127.0.0.2 .. 127.0.0.65.</summary>
    public const int MaxCount = 64;

    // Linux's IP_BIND_ADDRESS_NO_PORT (level SOL_IP): bind() takes the address only and the port is
    // chosen at connect(), for the full four-tuple, rather than reserved for the address alone.
    private const int SolIp = 0;
    private const int IpBindAddressNoPort = 24;

    private readonly IPAddress[] _addresses;
    private int _next = -1;

    private SourceAddresses(IPAddress[] addresses) => _addresses = addresses;

    /// <summary>No binding: the kernel chooses, as before the option existed.</summary>
    public static SourceAddresses None { get; } = new([]);

    /// <summary>How many addresses the clients are spread over; 0 for none.</summary>
    public int Count => _addresses.Length;

    /// <summary>127.0.0.2 .. 127.0.0.(count+1).</summary>
    public static SourceAddresses Loopback(int count)
    {
        if (count == 0)
        {
            return None;
        }

        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxCount);
        return new SourceAddresses([.. Enumerable.Range(2, count).Select(last => new IPAddress([127, 0, 0, (byte)last]))]);
    }

    /// <summary>The next address in turn, or null when the kernel should choose.</summary>
    public IPAddress? Next()
    {
        if (_addresses.Length == 0)
        {
            return null;
        }

        var n = (uint)Interlocked.Increment(ref _next);
        return _addresses[n % (uint)_addresses.Length];
    }

    /// <summary>A connected TCP socket (no Nagle) to <paramref name="server"/>, from the next address.</summary>
    public async ValueTask<Socket> ConnectAsync(IPEndPoint server, CancellationToken cancellationToken)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (Next() is { } local)
            {
                if (OperatingSystem.IsLinux())
                {
                    socket.SetRawSocketOption(SolIp, IpBindAddressNoPort, BitConverter.GetBytes(1));
                }

                socket.Bind(new IPEndPoint(local, 0));
            }

            await socket.ConnectAsync(server, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// For <see cref="SocketsHttpHandler.ConnectCallback"/>: each new connection from the next
    /// address; null (the handler's own connect) when there are no addresses.
    /// </summary>
    public Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? ConnectCallback =>
        _addresses.Length == 0 ? null : ConnectStreamAsync;

    private async ValueTask<Stream> ConnectStreamAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var address = IPAddress.Parse(endpoint.Host);
        var socket = await ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken);
        return new NetworkStream(socket, ownsSocket: true);
    }

    public override string ToString() => _addresses.Length == 0
        ? "127.0.0.1 (the kernel's choice)"
        : _addresses.Length == 1 ? _addresses[0].ToString() : $"{_addresses[0]} .. {_addresses[^1]}";
}
