using Comety.Tests.Infrastructure;
using Comety.Tests.Sample.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Comety.Tests.Sample;

/// <summary>People talking in rooms of the sample chat, each in a browser context of their own.</summary>
[Collection(BrowserSuite.Name)]
[Trait("Category", "Sample")]
public sealed class ConversationTests(BrowserFixture browser, SampleFixture sample, ITestOutputHelper output) : IClassFixture<SampleFixture>
{
    [Fact]
    public async Task People_in_a_room_see_each_others_messages_in_the_order_they_were_said()
    {
        await using var ann = await ChatPage.OpenAsync(browser, sample.Process);
        await using var bob = await ChatPage.OpenAsync(browser, sample.Process);
        var room = await ann.CreateRoomAsync(ChatPage.NewRoomName("Talk"));
        await ann.JoinAsync(room, "Ann");
        await bob.JoinAsync(room, "Bob");
        await ann.WaitForNoticeAsync("Bob joined");

        (ChatPage Speaker, string Name, ChatPage Listener, string Text)[] conversation =
        [
            (ann, "Ann", bob, "Hello Bob"),
            (bob, "Bob", ann, "Hi Ann, how are you?"),
            (ann, "Ann", bob, "Fine, thanks"),
            (bob, "Bob", ann, "Good to hear"),
        ];
        foreach (var (speaker, name, listener, text) in conversation)
        {
            var sentAt = await speaker.SayAsync(text);
            await listener.WaitForMessageAsync(name, text, ChatPage.MessageWait);
            var shownAt = await listener.ArrivalOfAsync(text);
            Assert.NotNull(shownAt);
            var delay = TimeSpan.FromMilliseconds(shownAt.Value - sentAt);
            output.WriteLine($"'{text}' from {name}: shown to the other page after {delay.TotalMilliseconds:F0} ms");
        }

        // Both pages show the whole conversation, each message once and in the order it was said.
        string[] expected = [.. conversation.Select(static c => $"{c.Name}: {c.Text}")];
        await ann.WaitForMessageAsync("Bob", "Good to hear");
        await bob.WaitForMessageAsync("Bob", "Good to hear");
        foreach (var page in new[] { ann, bob })
        {
            var lines = await page.ReadLinesAsync();
            Assert.Equal(expected, lines.Where(static l => l.Kind == "message").Select(static l => $"{l.Name}: {l.Text}"));
            Assert.Equal(lines.Count, lines.Select(static l => l.Sequence).Distinct().Count());
        }
    }

    [Fact]
    public async Task A_page_in_another_room_sees_none_of_the_messages()
    {
        await using var ann = await ChatPage.OpenAsync(browser, sample.Process);
        await using var bob = await ChatPage.OpenAsync(browser, sample.Process);
        await using var cid = await ChatPage.OpenAsync(browser, sample.Process);
        var here = await ann.CreateRoomAsync(ChatPage.NewRoomName("Here"));
        var elsewhere = await cid.CreateRoomAsync(ChatPage.NewRoomName("Elsewhere"));
        await cid.JoinAsync(elsewhere, "Cid");
        await ann.JoinAsync(here, "Ann");
        await bob.JoinAsync(here, "Bob");

        await ann.SayAsync("Just between us");
        await bob.SayAsync("Agreed");
        await ann.WaitForMessageAsync("Bob", "Agreed");
        await bob.WaitForMessageAsync("Bob", "Agreed");
        // Cid's own message comes after theirs in Comety's single order: once Cid's page shows it,
        // it would have shown theirs too, had they been meant for it.
        await cid.SayAsync("Anyone here?");
        await cid.WaitForMessageAsync("Cid", "Anyone here?");
        await ann.SayAsync("Still just us");
        await ann.WaitForMessageAsync("Ann", "Still just us");

        // Not shown, and not sent either (what was sent is recorded: Cid's own message is there).
        Assert.Contains(await cid.PollAnswersAsync(), static body => body.Contains("Anyone here?", StringComparison.Ordinal));
        Assert.DoesNotContain(await cid.PollAnswersAsync(), static body => body.Contains("Just between us", StringComparison.Ordinal) || body.Contains("Agreed", StringComparison.Ordinal));
        Assert.DoesNotContain(await ann.PollAnswersAsync(), static body => body.Contains("Anyone here?", StringComparison.Ordinal));
        var cidLines = await cid.ReadLinesAsync();
        Assert.Equal(["Cid joined", "Cid: Anyone here?"], cidLines.Select(Describe));
        Assert.Equal(["Cid"], await cid.MembersAsync());
        var annLines = await ann.ReadLinesAsync();
        Assert.Equal(["Ann joined", "Bob joined", "Ann: Just between us", "Bob: Agreed", "Ann: Still just us"], annLines.Select(Describe));
        Assert.Equal(["Ann", "Bob"], await ann.MembersAsync());
    }

    [Fact]
    public async Task Reloading_a_page_shows_every_line_once_and_misses_none()
    {
        // A time zone far from the server's (UTC): the lines the server renders and the ones the
        // script adds must show the same time.
        await using var ann = await ChatPage.OpenAsync(browser, sample.Process, new BrowserNewContextOptions { TimezoneId = "Asia/Kathmandu" });
        await using var bob = await ChatPage.OpenAsync(browser, sample.Process);
        var room = await ann.CreateRoomAsync(ChatPage.NewRoomName("Reload"));
        await ann.JoinAsync(room, "Ann");
        await bob.JoinAsync(room, "Bob");
        foreach (var (speaker, text) in new[] { (ann, "one"), (bob, "two"), (ann, "three"), (bob, "four") })
        {
            await speaker.SayAsync(text);
        }

        await ann.WaitForMessageAsync("Bob", "four");
        var beforeReload = await ann.ReadLinesAsync();

        // A line said while the page is away (its updates stopped, as when it unloads), then the reload.
        await ann.EvaluateAsync<bool>("() => { comety.stopUpdates(); return true; }");
        await bob.SayAsync("while you reload");
        await ann.ReloadAsync();
        var afterReload = await ann.ReadLinesAsync();
        await bob.SayAsync("after the reload");
        await ann.WaitForMessageAsync("Bob", "after the reload");
        var atTheEnd = await ann.ReadLinesAsync();

        Assert.Equal(["Ann joined", "Bob joined", "Ann: one", "Bob: two", "Ann: three", "Bob: four"], beforeReload.Select(Describe));
        Assert.Equal([.. beforeReload, afterReload[^1]], afterReload);
        Assert.Equal("Bob: while you reload", Describe(afterReload[^1]));
        Assert.Equal([.. afterReload, atTheEnd[^1]], atTheEnd);
        Assert.Equal("Bob: after the reload", Describe(atTheEnd[^1]));
        Assert.Equal(atTheEnd.Select(static l => l.Sequence).Order(), atTheEnd.Select(static l => l.Sequence));
        Assert.Equal(atTheEnd.Count, atTheEnd.Select(static l => l.Sequence).Distinct().Count());
        Assert.Equal(["Ann", "Bob"], await ann.MembersAsync());
    }

    [Fact]
    public async Task Markup_in_a_message_shows_as_text()
    {
        const string Typed = "<script>alert(1)</script> and <b>x</b>";
        await using var ann = await ChatPage.OpenAsync(browser, sample.Process);
        await using var bob = await ChatPage.OpenAsync(browser, sample.Process);
        var room = await ann.CreateRoomAsync(ChatPage.NewRoomName("Markup"));
        await ann.JoinAsync(room, "Ann");
        await bob.JoinAsync(room, "Bob");

        await ann.SayAsync(Typed);
        await bob.WaitForMessageAsync("Ann", Typed);
        await ann.WaitForMessageAsync("Ann", Typed);
        // Also as the server renders it, in the history of a page loaded afterwards.
        await bob.ReloadAsync();

        foreach (var page in new[] { ann, bob })
        {
            var message = Assert.Single(await page.ReadLinesAsync(), static l => l.Kind == "message");
            Assert.Equal(Typed, message.Text);
            Assert.Equal(0, await page.Page.Locator("#lines b, #lines script").CountAsync().Bounded());
            Assert.Empty(page.Dialogs);
        }
    }

    private static string Describe(ShownLine line) => line.Kind == "message" ? $"{line.Name}: {line.Text}" : line.Notice!.Trim();
}
