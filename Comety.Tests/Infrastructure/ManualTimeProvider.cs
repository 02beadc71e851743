using Microsoft.Extensions.Time.Testing;

namespace Comety.Tests.Infrastructure;

/// <summary>
/// The name <c>Core/DispatcherPollTests.cs</c> still uses for <see cref="FakeTimeProvider"/>, which
/// every other test takes directly. That file is being changed on another branch: once it is merged,
/// it should say <see cref="FakeTimeProvider"/> too, and this file go.
/// </summary>
public sealed class ManualTimeProvider : FakeTimeProvider;
