using System.Diagnostics;
using Comety.Tests.Infrastructure;
using Comety.Tests.Sample.Infrastructure;
using Xunit.Abstractions;

namespace Comety.Tests.Sample;

/// <summary>Who is in a room of the sample chat: joining under a name, and leaving by closing the page.</summary>
[Collection(BrowserSuite.Name)]
[Trait("Category", "Sample")]
public sealed class MembershipTests(BrowserFixture browser, SampleFixture sample, ITestOutputHelper output) : IClassFixture<SampleFixture>
{
    /// <summary>How long a closed page may take to leave its room: the heartbeat timeout plus the network delay, or five timeouts while the delay is unmeasured, and slack.</summary>
    private static readonly TimeSpan LeaveWait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_name_in_use_in_the_room_is_refused()
    {
        await using var ann = await ChatPage.OpenAsync(browser, sample.Process);
        await using var other = await ChatPage.OpenAsync(browser, sample.Process);
        var room = await ann.CreateRoomAsync(ChatPage.NewRoomName("Names"));
        await ann.JoinAsync(room, "Ann");

        var refused = await other.SubmitJoinAsync(room, "ann");

        Assert.Equal(409, refused.Status);
        var error = await other.Page.Locator(".joining .error").TextContentAsync().Bounded();
        Assert.Contains("“ann” is in use", error, StringComparison.Ordinal);
        Assert.Equal(0, await other.Page.Locator(".chat").CountAsync().Bounded());
        Assert.Equal("ann", await other.Page.InputValueAsync("#name").Bounded());

        // Another name gets in; the refused attempt left no trace in the room.
        await other.JoinAsync(room, "Annie");
        await ann.WaitForNoticeAsync("Annie joined");
        Assert.Equal(["Ann joined", "Annie joined"], (await ann.ReadLinesAsync()).Select(static l => l.Notice));
        Assert.Equal(["Ann", "Annie"], await ann.MembersAsync());
    }

    [Fact]
    public async Task Closing_a_page_shows_a_leave_notice_once_the_heartbeat_times_out()
    {
        await using var ann = await ChatPage.OpenAsync(browser, sample.Process);
        await using var bob = await ChatPage.OpenAsync(browser, sample.Process);
        var room = await ann.CreateRoomAsync(ChatPage.NewRoomName("Leaving"));
        await ann.JoinAsync(room, "Ann");
        await bob.JoinAsync(room, "Bob");
        // A few answered polls each, so that the server has measured both pages' network delay.
        foreach (var text in new[] { "hello", "hi", "bye then" })
        {
            await ann.SayAsync(text);
            await bob.WaitForMessageAsync("Ann", text);
        }

        Assert.Equal(["Ann", "Bob"], await ann.MembersAsync());
        var closed = Stopwatch.StartNew();
        await bob.Page.CloseAsync().Bounded();

        await ann.WaitForNoticeAsync("Bob left", LeaveWait);
        output.WriteLine($"The leave notice showed {closed.Elapsed.TotalMilliseconds:F0} ms after the page closed (heartbeat timeout {SampleFixture.HeartbeatTimeout.TotalSeconds} s).");
        Assert.True(closed.Elapsed >= SampleFixture.HeartbeatTimeout, "Bob left before the heartbeat could time out.");
        Assert.Equal(["Ann"], await ann.MembersAsync());
        Assert.Equal("Bob left", Assert.Single(await ann.ReadLinesAsync(), static l => l.Kind == "leave").Notice);
    }

    [Fact]
    public async Task A_page_may_not_listen_in_on_a_room_it_has_not_joined()
    {
        await using var ann = await ChatPage.OpenAsync(browser, sample.Process);
        await using var eve = await ChatPage.OpenAsync(browser, sample.Process);
        var here = await ann.CreateRoomAsync(ChatPage.NewRoomName("Private"));
        var elsewhere = await eve.CreateRoomAsync(ChatPage.NewRoomName("Elsewhere"));
        await ann.JoinAsync(here, "Ann");
        await eve.JoinAsync(elsewhere, "Eve");

        var status = await StatusOfAsync(eve, $"comety.subscribe('room:{here}')");
        await ann.SayAsync("a secret");
        await ann.WaitForMessageAsync("Ann", "a secret");
        // Eve's own later message: had the secret been sent to her page, it would have come first.
        await eve.SayAsync("anyone?");
        await eve.WaitForMessageAsync("Eve", "anyone?");

        Assert.Equal(403, status);
        Assert.Contains(await eve.PollAnswersAsync(), static body => body.Contains("anyone?", StringComparison.Ordinal));
        Assert.DoesNotContain(await eve.PollAnswersAsync(), static body => body.Contains("a secret", StringComparison.Ordinal));
        Assert.Equal(["Ann"], await ann.MembersAsync());
    }

    [Fact]
    public async Task A_page_may_subscribe_again_to_its_own_room_which_the_configuration_opens()
    {
        await using var ann = await ChatPage.OpenAsync(browser, sample.Process);
        var room = await ann.CreateRoomAsync(ChatPage.NewRoomName("Again"));
        await ann.JoinAsync(room, "Ann");

        // appsettings.json opens "room:*"; without it Comety would refuse even a member's own room.
        var own = await StatusOfAsync(ann, $"comety.subscribe('room:{room}')");
        var other = await StatusOfAsync(ann, "comety.subscribe('lobby')");
        await ann.SayAsync("still here");
        await ann.WaitForMessageAsync("Ann", "still here");

        Assert.Equal([204, 403], [own, other]);
        Assert.Equal(["Ann"], await ann.MembersAsync());
    }

    [Fact]
    public async Task A_page_that_unsubscribes_from_its_room_leaves_it()
    {
        await using var ann = await ChatPage.OpenAsync(browser, sample.Process);
        await using var bob = await ChatPage.OpenAsync(browser, sample.Process);
        await using var other = await ChatPage.OpenAsync(browser, sample.Process);
        var room = await ann.CreateRoomAsync(ChatPage.NewRoomName("Unsubscribe"));
        await ann.JoinAsync(room, "Ann");
        await bob.JoinAsync(room, "Bob");

        var status = await StatusOfAsync(bob, $"comety.unsubscribe('room:{room}')");

        // Bob hears the room no more, so he is no longer in it: the others are told, and his name is free.
        Assert.Equal(204, status);
        await ann.WaitForNoticeAsync("Bob left");
        Assert.Equal(["Ann"], await ann.MembersAsync());
        await other.JoinAsync(room, "Bob");
        await ann.WaitForNoticeAsync("Bob joined");
        Assert.Equal(["Ann", "Bob"], await ann.MembersAsync());
    }

    // The status of the request a comety.send, subscribe or unsubscribe call makes, once it completed.
    private static Task<int> StatusOfAsync(ChatPage page, string call) =>
        page.EvaluateAsync<int>($"() => new Promise(resolve => {{ const xhr = {call}; xhr.always(() => resolve(xhr.status)); }})");
}
