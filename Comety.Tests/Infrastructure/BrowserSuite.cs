namespace Comety.Tests.Infrastructure;

/// <summary>
/// The browser tests: they share one <see cref="BrowserFixture"/> and run one at a time, apart
/// from the other tests, so that one Chromium is up at a time and page timings are not starved.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrowserSuite : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Browser";
}
