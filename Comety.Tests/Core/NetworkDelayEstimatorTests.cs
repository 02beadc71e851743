namespace Comety.Tests.Core;

public sealed class NetworkDelayEstimatorTests
{
    [Fact]
    public void With_no_measurement_the_expected_delay_is_zero()
    {
        Assert.Equal(TimeSpan.Zero, new NetworkDelayEstimator().ExpectedDelay);
    }

    [Fact]
    public void With_fewer_than_six_measurements_the_largest_is_expected()
    {
        var estimator = Measured(3, 9, 1, 4, 2);

        Assert.Equal(TimeSpan.FromMilliseconds(9), estimator.ExpectedDelay);
    }

    [Fact]
    public void With_six_measurements_the_second_largest_is_expected()
    {
        var estimator = Measured(3, 9, 1, 4, 2, 7);

        Assert.Equal(TimeSpan.FromMilliseconds(7), estimator.ExpectedDelay);
    }

    [Fact]
    public void Only_the_last_six_measurements_count()
    {
        var estimator = Measured(100, 90, 1, 2, 3, 4, 5, 6);

        Assert.Equal(TimeSpan.FromMilliseconds(5), estimator.ExpectedDelay);
        Assert.Equal(6, estimator.MeasurementCount);
    }

    [Fact]
    public void A_delay_is_the_arrival_less_the_previous_response_less_the_client_elapsed_time()
    {
        var estimator = new NetworkDelayEstimator();
        var sent = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

        Assert.Null(estimator.OnRequest(sent, TimeSpan.Zero));
        estimator.OnResponse(sent);
        Assert.Null(estimator.OnRequest(sent.AddSeconds(1), clientElapsed: null));
        var delay = estimator.OnRequest(sent.AddMilliseconds(1500), TimeSpan.FromMilliseconds(1200));

        Assert.Equal(TimeSpan.FromMilliseconds(300), delay);
        Assert.Equal(TimeSpan.FromMilliseconds(300), estimator.ExpectedDelay);
    }

    [Fact]
    public void A_negative_measurement_counts_as_zero()
    {
        var estimator = new NetworkDelayEstimator();
        var sent = DateTimeOffset.UnixEpoch;
        estimator.OnResponse(sent);

        var delay = estimator.OnRequest(sent.AddSeconds(1), TimeSpan.FromSeconds(2));

        Assert.Equal(TimeSpan.Zero, delay);
        Assert.Equal(TimeSpan.Zero, estimator.ExpectedDelay);
    }

    [Fact]
    public void A_negative_measurement_is_kept_as_zero_so_it_neither_hides_nor_breaks_later_ones()
    {
        // Six measurements: -3 s (a client whose clock ran ahead), then 100..500 ms. Kept raw, -3 s
        // would be the smallest and drop out of "second largest" unnoticed, but it would not parse
        // back ('-' is no digit) and take every later measurement with it.
        var estimator = new NetworkDelayEstimator();
        var at = DateTimeOffset.UnixEpoch;
        estimator.OnResponse(at);
        estimator.OnRequest(at.AddSeconds(1), TimeSpan.FromSeconds(4));
        foreach (var ms in new[] { 100, 200, 300, 400, 500 })
        {
            at = at.AddSeconds(10);
            estimator.OnResponse(at);
            estimator.OnRequest(at.AddMilliseconds(ms), TimeSpan.Zero);
        }

        var restored = NetworkDelayEstimator.Parse(estimator.ToString());

        Assert.Equal(6, estimator.MeasurementCount);
        Assert.DoesNotContain("-", estimator.ToString(), StringComparison.Ordinal);
        Assert.Equal(6, restored.MeasurementCount);
        Assert.Equal(TimeSpan.FromMilliseconds(400), restored.ExpectedDelay);
    }

    [Fact]
    public void The_state_round_trips_through_a_string()
    {
        var estimator = Measured(1, 2, 3, 4, 5, 6, 7);
        estimator.OnResponse(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));

        var restored = NetworkDelayEstimator.Parse(estimator.ToString());
        restored.AddMeasurement(TimeSpan.FromMilliseconds(1));
        estimator.AddMeasurement(TimeSpan.FromMilliseconds(1));

        Assert.Equal(estimator.ToString(), restored.ToString());
        Assert.Equal(estimator.ExpectedDelay, restored.ExpectedDelay);
        Assert.Equal(estimator.LastResponseAt, restored.LastResponseAt);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("1 2 3 4 5 6 7 8")]
    [InlineData(" -5")]
    public void Unreadable_state_gives_a_fresh_estimator(string? state)
    {
        var estimator = NetworkDelayEstimator.Parse(state);

        Assert.Equal(0, estimator.MeasurementCount);
        Assert.Null(estimator.LastResponseAt);
    }

    private static NetworkDelayEstimator Measured(params int[] milliseconds)
    {
        var estimator = new NetworkDelayEstimator();
        foreach (var ms in milliseconds)
        {
            estimator.AddMeasurement(TimeSpan.FromMilliseconds(ms));
        }

        return estimator;
    }
}
