using System.Diagnostics;
using Comety.Tests.Infrastructure;
using Comety.Tests.Sample.Infrastructure;
using Xunit.Abstractions;

namespace Comety.Tests.Sample;

/// <summary>
/// One person with ten tabs of a room: the tabs share one poll or stream, so the tenth tab loads and
/// sends as a single tab does (a browser opens at most six connections to the site), and every tab
/// shows every line. The timings are written to the test output, not asserted.
/// </summary>
[Collection(BrowserSuite.Name)]
[Trait("Category", "Sample")]
public sealed class ManyTabsTests(BrowserFixture browser, SampleFixture sample, ITestOutputHelper output) : IClassFixture<SampleFixture>
{
    [Fact]
    public async Task Ten_tabs_of_one_person_share_one_connection_and_the_tenth_loads_and_sends_as_one_tab_does()
    {
        await using var ann = await ChatPage.OpenAsync(browser, sample.Process);
        var room = await ann.CreateRoomAsync(ChatPage.NewRoomName("Ten tabs"));
        await ann.JoinAsync(room, "Ann");

        // One tab: a load of the room's page, and a message.
        var oneTabLoad = Stopwatch.StartNew();
        await ann.OpenRoomAsync(room);
        oneTabLoad.Stop();
        var oneTabSend = Stopwatch.StartNew();
        await ann.SayAsync("from one tab");
        oneTabSend.Stop();

        var tabs = new List<ChatPage> { ann };
        try
        {
            for (var i = 2; i <= 10; i++)
            {
                var tab = await ann.NewTabAsync();
                tabs.Add(tab);
                var load = Stopwatch.StartNew();
                await tab.OpenRoomAsync(room);
                load.Stop();
                output.WriteLine($"tab {i}: loaded in {load.Elapsed.TotalMilliseconds:F0} ms");
            }

            var tenth = tabs[^1];
            var tenthLoad = Stopwatch.StartNew();
            await tenth.OpenRoomAsync(room);
            tenthLoad.Stop();
            var tenthSend = Stopwatch.StartNew();
            await tenth.SayAsync("from the tenth tab");
            tenthSend.Stop();
            foreach (var tab in tabs)
            {
                await tab.WaitForMessageAsync("Ann", "from the tenth tab");
            }

            // Every tab shows the line once.
            foreach (var tab in tabs)
            {
                var lines = await tab.ReadLinesAsync();
                Assert.Single(lines, static l => l.Kind == "message" && l.Text == "from the tenth tab");
                Assert.Equal(lines.Count, lines.Select(static l => l.Sequence).Distinct().Count());
            }

            output.WriteLine($"one tab: room page loaded in {oneTabLoad.Elapsed.TotalMilliseconds:F0} ms, message sent in {oneTabSend.Elapsed.TotalMilliseconds:F0} ms");
            output.WriteLine($"ten tabs: the tenth tab's room page loaded (again) in {tenthLoad.Elapsed.TotalMilliseconds:F0} ms, message sent in {tenthSend.Elapsed.TotalMilliseconds:F0} ms");
        }
        finally
        {
            for (var i = tabs.Count - 1; i >= 0; i--)
            {
                await tabs[i].DisposeAsync();
            }
        }
    }
}
