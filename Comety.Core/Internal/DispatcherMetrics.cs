using System.Diagnostics.Metrics;

namespace Comety.Internal;

/// <summary>
/// The dispatcher's instruments on the <c>Comety</c> meter: registered users, waiting polls,
/// events posted, events delivered (once per recipient) and events retained (the backlog).
/// </summary>
internal sealed class DispatcherMetrics : IDisposable
{
    public const string MeterName = "Comety";

    private readonly bool _ownsMeter;

    public Meter Meter { get; }

    public DispatcherMetrics(CometyDispatcher dispatcher, IMeterFactory? meterFactory)
    {
        _ownsMeter = meterFactory is null;
        Meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        Meter.CreateObservableGauge("comety.users.registered", () => dispatcher.UserCount, "{user}", "Users registered with the dispatcher.");
        Meter.CreateObservableGauge("comety.polls.waiting", () => dispatcher.WaitingPollCount, "{poll}", "Polls waiting for an event.");
        Meter.CreateObservableCounter("comety.events.posted", () => dispatcher.EventsPosted, "{event}", "Events appended to the log.");
        Meter.CreateObservableCounter("comety.events.delivered", () => dispatcher.EventsDelivered, "{event}", "Events put in a user's inbox, once per recipient.");
        Meter.CreateObservableGauge("comety.events.retained", () => dispatcher.RetainedEventCount, "{event}", "Delivered events kept while an inbox holds them for a page that may ask for them.");
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }
}
