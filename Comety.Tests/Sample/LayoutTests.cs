using Comety.Tests.Infrastructure;
using Comety.Tests.Sample.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Comety.Tests.Sample;

/// <summary>How the sample's room page looks with a conversation going on; it leaves a screenshot in the test output.</summary>
[Collection(BrowserSuite.Name)]
[Trait("Category", "Sample")]
public sealed class LayoutTests(BrowserFixture browser, SampleFixture sample, ITestOutputHelper output) : IClassFixture<SampleFixture>
{
    private const int ViewportWidth = 1280;
    private const int ViewportHeight = 800;

    /// <summary>Where the screenshot of the room page goes, beside the test assembly.</summary>
    public static string ScreenshotPath => Path.Combine(AppContext.BaseDirectory, "screenshots", "chat-room.png");

    [Fact]
    public async Task The_room_page_shows_members_conversation_and_composer_apart_and_styled()
    {
        var viewport = new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = ViewportWidth, Height = ViewportHeight } };
        await using var ann = await ChatPage.OpenAsync(browser, sample.Process, viewport);
        await using var bob = await ChatPage.OpenAsync(browser, sample.Process, viewport);
        await using var cid = await ChatPage.OpenAsync(browser, sample.Process, viewport);
        // A readable name for the picture; the only room this class's sample process has besides the lobby.
        var room = await ann.CreateRoomAsync("Weekend hike");
        await ann.JoinAsync(room, "Ann");
        await bob.JoinAsync(room, "Bob");
        await ann.SayAsync("Morning! Anyone up for a hike on Saturday?");
        await bob.SayAsync("Count me in. Which trail?");
        await ann.SayAsync("The ridge loop: about 12 km, back by lunch.");
        await cid.JoinAsync(room, "Cid");
        await cid.SayAsync("Sounds great. I can drive, there is room for three.");
        await bob.SayAsync("Perfect, I will bring coffee.");
        await ann.SayAsync("See you at 8 at the station then!");
        await ann.WaitForMessageAsync("Ann", "See you at 8 at the station then!");

        Directory.CreateDirectory(Path.GetDirectoryName(ScreenshotPath)!);
        await ann.Page.ScreenshotAsync(new PageScreenshotOptions { Path = ScreenshotPath, FullPage = true }).Bounded();
        output.WriteLine($"Screenshot of the room page: {ScreenshotPath}");

        Assert.True(new FileInfo(ScreenshotPath).Length > 0, "The screenshot is empty.");
        Assert.Equal(["Ann", "Bob", "Cid"], await ann.MembersAsync());
        Assert.Equal(["Ann joined", "Bob joined", "Cid joined"], (await ann.ReadLinesAsync()).Where(static l => l.Kind == "join").Select(static l => l.Notice));
        Assert.Equal(6, (await ann.ReadLinesAsync()).Count(static l => l.Kind == "message"));

        // The stylesheet is applied: the page is a grid of the members panel beside the conversation.
        Assert.Equal("grid", await ann.EvaluateAsync<string>("() => getComputedStyle(document.querySelector('.chat')).display"));
        var members = await BoxOfAsync(ann, ".members");
        var conversation = await BoxOfAsync(ann, ".conversation");
        var lines = await BoxOfAsync(ann, "#lines");
        var input = await BoxOfAsync(ann, "#message");
        var button = await BoxOfAsync(ann, "#composer button[type=submit]");
        Assert.False(Overlap(members, conversation), $"The members panel {members} overlaps the conversation {conversation}.");
        Assert.False(Overlap(members, input), $"The members panel {members} overlaps the message input {input}.");
        Assert.False(Overlap(members, button), $"The members panel {members} overlaps the send button {button}.");
        Assert.False(Overlap(input, button), $"The message input {input} overlaps the send button {button}.");
        Assert.False(Overlap(lines, input), $"The lines {lines} overlap the message input {input}.");
        Assert.True(members.X + members.Width <= conversation.X, "The members panel is not left of the conversation.");
        Assert.True(Inside(input, conversation) && Inside(button, conversation) && Inside(lines, conversation), "The lines and the composer are not inside the conversation panel.");
        Assert.True(lines.Y + lines.Height <= input.Y, "The composer is not below the lines.");
        Assert.True(Math.Max(input.Y + input.Height, button.Y + button.Height) <= ViewportHeight, $"The composer {input} {button} is below the window's bottom edge.");
        Assert.True(input.Width > button.Width, "The message input is narrower than its button.");
    }

    // A visible element's box, which must have an area and lie across the viewport's width.
    private static async Task<Box> BoxOfAsync(ChatPage page, string selector)
    {
        var element = page.Page.Locator(selector);
        Assert.True(await element.IsVisibleAsync().Bounded(), $"{selector} is not visible.");
        var box = await element.BoundingBoxAsync().Bounded() ?? throw new Xunit.Sdk.XunitException($"{selector} has no box.");
        var result = new Box(box.X, box.Y, box.Width, box.Height);
        Assert.True(box.Width > 0 && box.Height > 0, $"{selector} has no area: {result}.");
        Assert.True(box.X >= 0 && box.X + box.Width <= ViewportWidth, $"{selector} leaves the viewport's width: {result}.");
        return result;
    }

    private static bool Overlap(Box a, Box b) =>
        a.X < b.X + b.Width && b.X < a.X + a.Width && a.Y < b.Y + b.Height && b.Y < a.Y + a.Height;

    private static bool Inside(Box inner, Box outer) =>
        inner.X >= outer.X && inner.Y >= outer.Y && inner.X + inner.Width <= outer.X + outer.Width && inner.Y + inner.Height <= outer.Y + outer.Height;

    private sealed record Box(float X, float Y, float Width, float Height)
    {
        public override string ToString() => $"({X:F0}, {Y:F0}) {Width:F0}×{Height:F0}";
    }
}
