using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Core;

public sealed class MetricsTests
{
    [Fact]
    public async Task The_Comety_meter_reports_users_waiting_polls_posted_delivered_and_retained_events()
    {
        var clock = new FakeTimeProvider();
        using var dispatcher = new CometyDispatcher(timeProvider: clock);
        await dispatcher.RegisterUserAsync("a").Bounded();
        await dispatcher.RegisterUserAsync("b").Bounded();
        await dispatcher.BroadcastAsync("test", Args("e")).Bounded();

        await dispatcher.PollAsync("a", 1, TimeSpan.Zero).Bounded();
        await dispatcher.PostToUserAsync("a", "test", Args("e")).Bounded();
        var waiting = dispatcher.PollAsync("b", 1, TimeSpan.FromMinutes(1)).AsTask();

        var measured = Collect(dispatcher);

        Assert.Equal(2, measured["comety.users.registered"]);
        Assert.Equal(1, measured["comety.polls.waiting"]);
        Assert.Equal(2, measured["comety.events.posted"]);
        Assert.Equal(3, measured["comety.events.delivered"]);
        Assert.Equal(1, measured["comety.events.retained"]);
        dispatcher.Dispose();
        await waiting.Bounded();
    }

    private static Dictionary<string, long> Collect(CometyDispatcher dispatcher)
    {
        var measured = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Other tests' dispatchers have meters of their own; only this one's count here.
            if (ReferenceEquals(instrument.Meter, dispatcher.Metrics.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => measured[instrument.Name] = value);
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => measured[instrument.Name] = value);
        listener.Start();
        listener.RecordObservableInstruments();
        return measured;
    }
}
