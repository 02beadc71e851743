using System.Globalization;

namespace Comety;

/// <summary>
/// Estimates a user's network delay from its recent polls, as the Comety protocol describes:
/// it keeps the last six measured delays and expects the second largest (the largest while it
/// has fewer than six, zero while it has none).
/// </summary>
/// <remarks>
/// A delay is measured when a poll arrives: the time since the previous response was sent,
/// less the <c>elapsed</c> time the client reports having spent in between. The dispatcher
/// keeps the estimators (<see cref="CometyDispatcher.GetNetworkDelayEstimator"/>). Every member
/// is thread-safe: the polls of several tabs may measure with one estimator at the same time.
/// </remarks>
public sealed class NetworkDelayEstimator
{
    // How many measurements the estimator keeps.
    private const int Capacity = 6;

    private readonly Lock _lock = new();
    private readonly long[] _samples = new long[Capacity];
    private int _count;
    private int _next;
    private DateTimeOffset? _lastResponseAt;

    internal NetworkDelayEstimator()
    {
    }

    /// <summary>Gets how many delays have been measured, up to six.</summary>
    public int MeasurementCount => Volatile.Read(ref _count);

    /// <summary>Gets the expected network delay: the second largest of six measurements, the largest of fewer, or zero.</summary>
    public TimeSpan ExpectedDelay
    {
        get
        {
            lock (_lock)
            {
                return ExpectedDelayCore();
            }
        }
    }

    private TimeSpan ExpectedDelayCore()
    {
        long largest = 0, second = 0;
        for (var i = 0; i < _count; i++)
        {
            var sample = _samples[i];
            if (sample > largest)
            {
                second = largest;
                largest = sample;
            }
            else if (sample > second)
            {
                second = sample;
            }
        }

        return TimeSpan.FromTicks(_count < Capacity ? largest : second);
    }

    // A negative measurement (a client whose clock ran ahead) counts as zero.
    private void AddMeasurement(TimeSpan delay)
    {
        _samples[_next] = Math.Max(0, delay.Ticks);
        _next = (_next + 1) % Capacity;
        _count = Math.Min(_count + 1, Capacity);
    }

    /// <summary>
    /// Measures the delay of a poll that arrived at <paramref name="arrivedAt"/>, if a previous
    /// response was sent and the client said how long it took in between.
    /// </summary>
    /// <param name="arrivedAt">When the poll arrived.</param>
    /// <param name="clientElapsed">The client's <c>elapsed</c> time, or <see langword="null"/> when it sent none (or an invalid one).</param>
    /// <returns>The measured delay, or <see langword="null"/> when nothing could be measured.</returns>
    public TimeSpan? OnRequest(DateTimeOffset arrivedAt, TimeSpan? clientElapsed)
    {
        if (clientElapsed is not { } elapsed)
        {
            return null;
        }

        lock (_lock)
        {
            if (_lastResponseAt is not { } sentAt)
            {
                return null;
            }

            var delay = arrivedAt - sentAt - elapsed;
            AddMeasurement(delay);
            return delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
        }
    }

    /// <summary>Notes that a response was sent to the user at <paramref name="sentAt"/>.</summary>
    /// <param name="sentAt">When the response was sent.</param>
    public void OnResponse(DateTimeOffset sentAt)
    {
        lock (_lock)
        {
            _lastResponseAt = sentAt;
        }
    }

    /// <summary>Returns the estimator's state as a short invariant string, for diagnostics.</summary>
    /// <returns>The state: the last response time and the measurements, oldest first, in ticks.</returns>
    public override string ToString()
    {
        lock (_lock)
        {
            var parts = new string[_count + 1];
            parts[0] = _lastResponseAt?.UtcTicks.ToString(CultureInfo.InvariantCulture) ?? string.Empty;
            for (var i = 0; i < _count; i++)
            {
                var index = (_next - _count + i + Capacity) % Capacity;
                parts[i + 1] = _samples[index].ToString(CultureInfo.InvariantCulture);
            }

            return string.Join(' ', parts);
        }
    }
}
