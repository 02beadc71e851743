namespace Comety.Tests.Sample.Infrastructure;

/// <summary>
/// One sample chat process for a test class, with a heartbeat timeout of one second so that a
/// closed page leaves its room quickly. Rooms are independent: each test makes its own.
/// </summary>
public sealed class SampleFixture : IAsyncLifetime
{
    /// <summary>The sample's heartbeat timeout in these tests (it adds the measured network delay).</summary>
    public static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromSeconds(1);

    private SampleProcess? _process;

    /// <summary>Gets the running sample.</summary>
    public SampleProcess Process => _process ?? throw new InvalidOperationException("The sample was not started.");

    public async Task InitializeAsync() =>
        _process = await SampleProcess.StartAsync(new Dictionary<string, string>
        {
            ["Comety:HeartbeatTimeout"] = HeartbeatTimeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
        });

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }
}
