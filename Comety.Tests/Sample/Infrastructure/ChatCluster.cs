using System.Globalization;

namespace Comety.Tests.Sample.Infrastructure;

/// <summary>
/// The sample chat on a cluster, as eng/cluster.sh runs it: instances of the sample on one
/// PostgreSQL database (<c>ConnectionStrings:Comety</c>), each a process of its own on a loopback
/// port, and the round-robin load balancer without affinity (samples/Comety.Cluster.Proxy) in front,
/// which is where the pages go (<see cref="Proxy"/>). An instance can be killed (SIGKILL) and
/// started again on its port.
/// </summary>
public sealed class ChatCluster : IAsyncDisposable
{
    private const string ProxyName = "Comety.Cluster.Proxy";

    private readonly SampleProcess?[] _instances;
    private readonly Uri[] _addresses;
    private readonly IReadOnlyDictionary<string, string> _settings;

    private ChatCluster(SampleProcess?[] instances, Uri[] addresses, SampleProcess proxy, IReadOnlyDictionary<string, string> settings)
    {
        _instances = instances;
        _addresses = addresses;
        Proxy = proxy;
        _settings = settings;
    }

    /// <summary>Gets the load balancer: the one address the pages open.</summary>
    public SampleProcess Proxy { get; }

    /// <summary>Gets how many instances the cluster has.</summary>
    public int Count => _instances.Length;

    /// <summary>Starts <paramref name="count"/> instances on the database, one after the other, then the load balancer.</summary>
    public static async Task<ChatCluster> StartAsync(string connectionString, int count, IReadOnlyDictionary<string, string>? settings = null)
    {
        var all = new Dictionary<string, string>(settings ?? new Dictionary<string, string>())
        {
            ["ConnectionStrings:Comety"] = connectionString,
        };
        var instances = new SampleProcess?[count];
        var addresses = new Uri[count];
        try
        {
            for (var i = 0; i < count; i++)
            {
                instances[i] = await SampleProcess.StartAsync(all);
                addresses[i] = instances[i]!.BaseAddress;
            }

            var proxy = await SampleProcess.StartAsync(
                new Dictionary<string, string>
                {
                    ["Destinations"] = string.Join(',', addresses.Select(static a => a.GetLeftPart(UriPartial.Authority))),
                },
                sampleName: ProxyName);
            return new ChatCluster(instances, addresses, proxy, all);
        }
        catch
        {
            foreach (var instance in instances)
            {
                if (instance is not null)
                {
                    await instance.DisposeAsync();
                }
            }

            throw;
        }
    }

    /// <summary>Gets a running instance (for its output), or null while it is killed.</summary>
    public SampleProcess? Instance(int index) => _instances[index];

    /// <summary>Kills instance <paramref name="index"/> with SIGKILL: no shutdown, no goodbye to the database.</summary>
    public async Task KillAsync(int index)
    {
        if (_instances[index] is { } instance)
        {
            _instances[index] = null;
            await instance.KillAsync();
        }
    }

    /// <summary>Starts instance <paramref name="index"/> again on its port, where the load balancer expects it.</summary>
    public async Task RestartAsync(int index)
    {
        if (_instances[index] is not null)
        {
            throw new InvalidOperationException($"Instance {index} is running.");
        }

        _instances[index] = await SampleProcess.StartAsync(_settings, _addresses[index].GetLeftPart(UriPartial.Authority));
    }

    /// <summary>The last lines of every process, for failure messages.</summary>
    public string LastOutput(int count) =>
        string.Join(
            Environment.NewLine,
            _instances.Select((instance, i) => string.Create(CultureInfo.InvariantCulture, $"--- instance {i} ({_addresses[i]}):{Environment.NewLine}{instance?.LastOutput(count) ?? "(killed)"}"))
                .Append($"--- load balancer:{Environment.NewLine}{Proxy.LastOutput(count)}"));

    public async ValueTask DisposeAsync()
    {
        await Proxy.DisposeAsync();
        foreach (var instance in _instances)
        {
            if (instance is not null)
            {
                await instance.DisposeAsync();
            }
        }
    }
}
