using Microsoft.Extensions.Time.Testing;

namespace Comety.Tests.Infrastructure;

/// <summary>
/// The name <c>Core/DispatcherPollTests.cs</c> still uses for <see cref="FakeTimeProvider"/>, which
/// every other test takes directly. That file is being changed on another branch: once it is merged,
/// it should say <see cref="FakeTimeProvider"/> too, and this file go.
/// </summary>
/// <remarks>
/// Two things differ from the hand-written clock this replaced: <see cref="FakeTimeProvider.Advance(TimeSpan)"/>
/// moves the clock to its end before it fires the timers that came due on the way (in due order),
/// so a callback reads the end time rather than its own due time; and a timer changed to fire after
/// zero fires at once, on the thread that changed it, instead of at the next advance. Timestamps
/// are the same: <see cref="TimeProvider.GetTimestamp"/> is the UTC time's ticks, ten million a second.
/// </remarks>
public sealed class ManualTimeProvider : FakeTimeProvider;
