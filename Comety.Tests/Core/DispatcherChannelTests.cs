using Comety.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Core;

public sealed class DispatcherChannelTests : IDisposable
{
    private readonly CometyDispatcher _dispatcher = new(timeProvider: new FakeTimeProvider());

    public void Dispose() => _dispatcher.Dispose();

    [Fact]
    public async Task A_channel_event_reaches_only_the_channel_subscribers_and_names_the_channel()
    {
        await RegisterAsync("in", "out");
        await _dispatcher.SubscribeAsync("in", "room-1").Bounded();

        await _dispatcher.PostToChannelAsync("room-1", "Chat", Args("message", ("text", "hi"))).Bounded();
        var inside = await _dispatcher.PollAsync("in", 0, TimeSpan.Zero).Bounded();
        var outside = await _dispatcher.PollAsync("out", 0, TimeSpan.Zero).Bounded();

        var e = Assert.Single(inside.Events!);
        Assert.Equal("room-1", e.Args[CometyEvent.ChannelArgument]);
        Assert.Equal("room-1", e.Channel);
        Assert.Null(outside.Events);
        Assert.Equal(1, outside.LastId);
    }

    [Fact]
    public async Task An_unsubscribed_user_receives_no_more_of_the_channel_events()
    {
        await RegisterAsync("u1");
        await _dispatcher.SubscribeAsync("u1", "room").Bounded();
        await _dispatcher.PostToChannelAsync("room", "test", Args("before")).Bounded();

        Assert.True(await _dispatcher.UnsubscribeAsync("u1", "room").Bounded());
        await _dispatcher.PostToChannelAsync("room", "test", Args("after")).Bounded();
        var result = await _dispatcher.PollAsync("u1", 0, TimeSpan.Zero).Bounded();

        Assert.Equal(["before"], result.Types());
        Assert.Empty(_dispatcher.GetChannels("u1"));
        Assert.Empty(_dispatcher.GetSubscribers("room"));
    }

    [Fact]
    public async Task Subscribing_twice_or_unsubscribing_a_stranger_changes_nothing()
    {
        await RegisterAsync("u1");

        Assert.True(await _dispatcher.SubscribeAsync("u1", "room").Bounded());
        Assert.False(await _dispatcher.SubscribeAsync("u1", "room").Bounded());
        Assert.False(await _dispatcher.UnsubscribeAsync("u1", "other").Bounded());
        Assert.Equal(["room"], _dispatcher.GetChannels("u1"));
        Assert.Equal(["u1"], _dispatcher.GetSubscribers("room"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("line\nbreak")]
    [InlineData("tab\there")]
    public async Task Invalid_channel_names_are_rejected(string channel)
    {
        await RegisterAsync("u1");

        await Assert.ThrowsAsync<ArgumentException>(() => _dispatcher.SubscribeAsync("u1", channel).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _dispatcher.PostToChannelAsync(channel, "test", Args("e")).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _dispatcher.PostToChannelAsync(new string('x', 201), "test", Args("e")).AsTask());
    }

    [Fact]
    public async Task A_channel_name_of_200_characters_is_accepted()
    {
        await RegisterAsync("u1");

        Assert.True(await _dispatcher.SubscribeAsync("u1", new string('x', 200)).Bounded());
    }

    [Fact]
    public async Task An_event_for_one_user_reaches_that_user_only()
    {
        await RegisterAsync("a", "b");

        await _dispatcher.PostToUserAsync("b", "test", Args("private")).Bounded();

        Assert.Null((await _dispatcher.PollAsync("a", 0, TimeSpan.Zero).Bounded()).Events);
        Assert.Equal(["private"], (await _dispatcher.PollAsync("b", 0, TimeSpan.Zero).Bounded()).Types());
    }

    [Fact]
    public async Task An_event_with_targets_and_a_channel_reaches_the_targets_in_the_channel()
    {
        await RegisterAsync("a", "b", "c");
        await _dispatcher.SubscribeAsync("a", "room").Bounded();
        await _dispatcher.SubscribeAsync("b", "room").Bounded();

        await _dispatcher.PostAsync(new CometyEvent("test", Args("whisper"), "room", ["b", "c", "nobody"])).Bounded();

        Assert.Null((await _dispatcher.PollAsync("a", 0, TimeSpan.Zero).Bounded()).Events);
        Assert.Equal(["whisper"], (await _dispatcher.PollAsync("b", 0, TimeSpan.Zero).Bounded()).Types());
        Assert.Null((await _dispatcher.PollAsync("c", 0, TimeSpan.Zero).Bounded()).Events);
    }

    [Fact]
    public async Task A_targeted_channel_event_passes_over_a_waiting_target_that_left_the_channel()
    {
        await RegisterAsync("a", "b");
        await _dispatcher.SubscribeAsync("a", "room").Bounded();
        await _dispatcher.SubscribeAsync("b", "room").Bounded();
        await _dispatcher.UnsubscribeAsync("b", "room").Bounded();
        var waiting = _dispatcher.PollAsync("b", 0, TimeSpan.FromHours(1)).AsTask();

        await _dispatcher.PostAsync(new CometyEvent("test", Args("whisper"), "room", ["a", "b"])).Bounded();
        await _dispatcher.PostToUserAsync("b", "test", Args("direct")).Bounded();

        var answer = await waiting.Bounded();
        Assert.Equal(["direct"], answer.Types());
        Assert.Equal(2, answer.LastId);
        Assert.Equal(["whisper"], (await _dispatcher.PollAsync("a", 0, TimeSpan.Zero).Bounded()).Types());
    }

    [Fact]
    public async Task A_strict_target_filter_keeps_only_events_naming_the_user_and_its_answer_accounts_for_the_rest()
    {
        var log = new InMemoryEventLog();
        using var dispatcher = new CometyDispatcher(log: log, timeProvider: new FakeTimeProvider());
        await dispatcher.RegisterUserAsync("u1").Bounded();
        await dispatcher.BroadcastAsync("test", Args("everyone")).Bounded();
        await dispatcher.PostToUserAsync("u1", "test", Args("mine")).Bounded();

        var strict = await dispatcher.PollAsync("u1", 0, TimeSpan.Zero, EventFilters.ForTargetUser("u1")).Bounded();
        var unfiltered = await dispatcher.PollAsync("u1", 0, TimeSpan.Zero).Bounded();

        Assert.Equal(["mine"], strict.Types());
        Assert.Equal(2, strict.LastId);
        Assert.Equal(["everyone", "mine"], unfiltered.Types());
        Assert.Equal(2, log.Count);
    }

    [Fact]
    public async Task An_unfiltered_poll_is_the_originals_lenient_target_filter_an_inbox_never_holds_another_users_events()
    {
        await RegisterAsync("u1");
        await RegisterAsync("u2");
        await _dispatcher.BroadcastAsync("test", Args("everyone")).Bounded();
        await _dispatcher.PostToUserAsync("u1", "test", Args("mine")).Bounded();
        await _dispatcher.PostToUserAsync("u2", "test", Args("theirs")).Bounded();

        var unfiltered = await _dispatcher.PollAsync("u1", 0, TimeSpan.Zero).Bounded();

        Assert.Equal(["everyone", "mine"], unfiltered.Types());
        Assert.DoesNotContain(unfiltered.Events!, e => e.TargetUserIds is { } targets && !targets.Contains("u1"));
    }

    [Fact]
    public async Task A_waiting_poll_whose_filter_rejects_the_new_event_keeps_waiting()
    {
        await RegisterAsync("u1");
        var poll = _dispatcher.PollAsync("u1", 0, TimeSpan.FromMinutes(1), e => e.Type != "noise").AsTask();

        await _dispatcher.BroadcastAsync("test", Args("noise")).Bounded();
        await _dispatcher.BroadcastAsync("test", Args("signal")).Bounded();
        var result = await poll.Bounded();

        Assert.Equal(["signal"], result.Types());
        Assert.Equal(2, result.LastId);
    }

    [Fact]
    public async Task A_channel_post_among_ten_thousand_users_wakes_and_fills_only_its_hundred_subscribers()
    {
        const int users = 10_000;
        const int subscribers = 100;
        for (var i = 0; i < users; i++)
        {
            await _dispatcher.RegisterUserAsync($"u{i}").Bounded();
            if (i % (users / subscribers) == 0)
            {
                await _dispatcher.SubscribeAsync($"u{i}", "room").Bounded();
            }
        }

        var polls = Enumerable.Range(0, users)
            .Select(i => _dispatcher.PollAsync($"u{i}", 0, TimeSpan.FromMinutes(5)).AsTask())
            .ToArray();
        await _dispatcher.PostToChannelAsync("room", "test", Args("e")).Bounded();
        var woken = polls.Where((_, i) => i % (users / subscribers) == 0).ToArray();
        await Task.WhenAll(woken).Bounded();

        Assert.All(woken, poll => Assert.Equal(["e"], poll.Result.Types()));
        Assert.Equal(users - subscribers, polls.Count(poll => !poll.IsCompleted));
        Assert.Null((await _dispatcher.PollAsync("u1", 0, TimeSpan.Zero).Bounded()).Events);
        _dispatcher.Dispose();
        await Task.WhenAll(polls).Bounded();
    }

    private async Task RegisterAsync(params string[] users)
    {
        foreach (var user in users)
        {
            await _dispatcher.RegisterUserAsync(user).Bounded();
        }
    }
}
