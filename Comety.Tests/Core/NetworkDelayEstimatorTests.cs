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
    public void A_negative_measurement_is_one_of_the_six_and_is_kept_as_zero()
    {
        // -3 s (a client whose clock ran ahead), then 100..500 ms: six measurements, so the second
        // largest (400 ms) is expected, not the largest of the five positive ones.
        var estimator = Measured(-3000, 100, 200, 300, 400, 500);

        Assert.Equal(6, estimator.MeasurementCount);
        Assert.Equal(TimeSpan.FromMilliseconds(400), estimator.ExpectedDelay);
        Assert.Equal("0 1000000 2000000 3000000 4000000 5000000", string.Join(' ', estimator.ToString().Split(' ').Skip(1)));
    }

    [Fact]
    public void The_state_names_the_last_response_and_the_measurements_oldest_first()
    {
        var estimator = Measured(1, 2, 3, 4, 5, 6, 7);
        var sent = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
        estimator.OnResponse(sent);

        Assert.Equal($"{sent.UtcTicks} 20000 30000 40000 50000 60000 70000", estimator.ToString());
        Assert.Equal(string.Empty, new NetworkDelayEstimator().ToString());
    }

    // Each delay measured as the controller measures it: a response, then a poll that arrives
    // that much later and reports no time spent in the client.
    private static NetworkDelayEstimator Measured(params int[] milliseconds)
    {
        var estimator = new NetworkDelayEstimator();
        var sent = DateTimeOffset.UnixEpoch;
        foreach (var ms in milliseconds)
        {
            estimator.OnResponse(sent);
            estimator.OnRequest(sent.AddMilliseconds(ms), TimeSpan.Zero);
            sent = sent.AddMinutes(1);
        }

        return estimator;
    }
}
