using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Browser;

/// <summary>comety.mjs, the ES module beside the classic script, on a page that imports it and creates the API itself.</summary>
[Collection(BrowserSuite.Name)]
[Trait("Category", "Browser")]
public sealed class ModuleTests(BrowserFixture browser)
{
    [Fact]
    public async Task A_page_that_imports_the_module_gets_a_working_api_that_receives_events()
    {
        await using var host = await TestHost.StartAsync();
        await using var page = await browser.OpenAsync(host);

        var response = await page.Page.GotoAsync("/test/module-page?user=ann").Bounded();
        Assert.True(response is { Ok: true }, $"The module page failed to load: {response?.Status}.");
        await page.WaitUntilAsync("() => window.comety !== undefined && window.comety.isRunning()", null, "the module to create and start the API");
        var posted = await host.Dispatcher.BroadcastAsync("server", Args("hello")).Bounded();
        await page.WaitForReceivedAsync(1);

        Assert.Equal([posted!.Value], (await page.ReceivedAsync()).Select(e => e.Sequence));
        Assert.Equal("function", await page.EvaluateAsync<string>("() => window.moduleExports.create"));
        Assert.Equal(2, await page.EvaluateAsync<int>("() => window.moduleExports.protocolVersion"));
        Assert.True(await page.EvaluateAsync<bool>("() => window.moduleExports.sameAsDefault"));
        Assert.Empty(await page.ErrorStatusesAsync());
    }
}
