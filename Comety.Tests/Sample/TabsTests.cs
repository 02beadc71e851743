using Comety.Tests.Infrastructure;
using Comety.Tests.Sample.Infrastructure;

namespace Comety.Tests.Sample;

/// <summary>One person with the same room open in two tabs: both show every line, once and in order.</summary>
[Collection(BrowserSuite.Name)]
[Trait("Category", "Sample")]
public sealed class TabsTests(BrowserFixture browser, SampleFixture sample) : IClassFixture<SampleFixture>
{
    [Fact]
    public async Task Two_tabs_of_one_person_both_show_every_line_while_one_stops_for_a_while()
    {
        await using var ann = await ChatPage.OpenAsync(browser, sample.Process);
        await using var bob = await ChatPage.OpenAsync(browser, sample.Process);
        var room = await ann.CreateRoomAsync(ChatPage.NewRoomName("Tabs"));
        await ann.JoinAsync(room, "Ann");
        await using var annAgain = await ann.NewTabAsync();
        await annAgain.OpenRoomAsync(room);
        await bob.JoinAsync(room, "Bob");
        await ann.WaitForNoticeAsync("Bob joined");
        await annAgain.WaitForNoticeAsync("Bob joined");

        // The second tab stops polling (as a throttled or briefly offline tab does) while three lines arrive.
        await annAgain.EvaluateAsync<bool>("() => { comety.stopUpdates(); return true; }");
        foreach (var text in new[] { "one", "two", "three" })
        {
            await bob.SayAsync(text);
            await ann.WaitForMessageAsync("Bob", text);
        }

        await annAgain.EvaluateAsync<bool>("() => { comety.startUpdates(); return true; }");
        await bob.SayAsync("four");
        await ann.WaitForMessageAsync("Bob", "four");
        await annAgain.WaitForMessageAsync("Bob", "four");

        var first = await ann.ReadLinesAsync();
        var second = await annAgain.ReadLinesAsync();
        Assert.Equal(["one", "two", "three", "four"], first.Where(static l => l.Kind == "message").Select(static l => l.Text));
        Assert.Equal(first.Select(static l => l.Sequence), second.Select(static l => l.Sequence));
        Assert.Equal(second.Count, second.Select(static l => l.Sequence).Distinct().Count());
    }

    [Fact]
    public async Task A_tab_reloaded_while_lines_arrive_shows_each_line_once_in_order()
    {
        await using var ann = await ChatPage.OpenAsync(browser, sample.Process);
        await using var bob = await ChatPage.OpenAsync(browser, sample.Process);
        var room = await ann.CreateRoomAsync(ChatPage.NewRoomName("Reload"));
        await ann.JoinAsync(room, "Ann");
        await bob.JoinAsync(room, "Bob");
        await ann.WaitForNoticeAsync("Bob joined");

        // Bob's page sends a burst of lines while Ann's page reloads: some land before the page
        // reads the room's history, some while it renders, some after its first poll.
        var burst = bob.EvaluateAsync<int>("""
            async () => {
                const channel = document.querySelector('.chat').dataset.channel;
                for (let i = 1; i <= 20; i++) {
                    await comety.send({ text: 'line ' + i }, channel);
                }
                return 20;
            }
            """);
        await ann.ReloadAsync();
        Assert.Equal(20, await burst);
        await ann.WaitForMessageAsync("Bob", "line 20");

        var lines = await ann.ReadLinesAsync();
        Assert.Equal(Enumerable.Range(1, 20).Select(static i => $"line {i}"), lines.Where(static l => l.Kind == "message").Select(static l => l.Text));
        Assert.Equal(lines.Count, lines.Select(static l => l.Sequence).Distinct().Count());
        Assert.Equal(lines.Select(static l => l.Sequence).Order(), lines.Select(static l => l.Sequence));
    }
}
