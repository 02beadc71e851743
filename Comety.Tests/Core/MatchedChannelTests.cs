using System.Collections.Concurrent;
using System.Text.Json;
using Comety.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Core;

/// <summary>
/// <see cref="LifecycleContext.MatchedChannels"/>: a handler learns which channels made it run, and
/// a message to a channel its sender is not subscribed to runs no handler.
/// </summary>
public sealed class MatchedChannelTests : IDisposable
{
    private static readonly JsonElement Text = JsonDocument.Parse("""{"text":"hi"}""").RootElement;

    private readonly CometyDispatcher _dispatcher = new(timeProvider: new FakeTimeProvider());
    private readonly ConcurrentQueue<string> _seen = new();

    public void Dispose() => _dispatcher.Dispose();

    [Fact]
    public async Task A_message_sent_without_a_channel_tells_a_pattern_handler_which_of_the_sender_channels_matched()
    {
        Record(LifecycleEvent.Message, "rooms", "^room:");
        await RegisterAsync("ann", "room:b", "lobby", "room:a");

        Assert.True(await _dispatcher.ReceiveMessageAsync("ann", Text).Bounded());

        Assert.Equal(["rooms ann channel=(none) matched=[room:a,room:b]"], _seen);
    }

    [Fact]
    public async Task A_message_sent_to_a_channel_matches_that_channel_only()
    {
        Record(LifecycleEvent.Message, "rooms", "^room:");
        await RegisterAsync("ann", "room:a", "room:b");

        Assert.True(await _dispatcher.ReceiveMessageAsync("ann", Text, "room:b").Bounded());

        Assert.Equal(["rooms ann channel=room:b matched=[room:b]"], _seen);
    }

    [Fact]
    public async Task A_message_to_a_channel_the_sender_is_not_subscribed_to_runs_no_handler()
    {
        Record(LifecycleEvent.Message, "rooms", "^room:");
        Record(LifecycleEvent.Message, "plain");
        await RegisterAsync("ann", "room:a");

        Assert.False(await _dispatcher.ReceiveMessageAsync("ann", Text, "room:b").Bounded());

        Assert.Empty(_seen);
    }

    [Fact]
    public async Task A_message_to_a_channel_the_sender_has_left_runs_no_handler()
    {
        Record(LifecycleEvent.Message, "rooms", "^room:");
        await RegisterAsync("ann", "room:a", "room:b");
        await _dispatcher.UnsubscribeAsync("ann", "room:b").Bounded();

        Assert.False(await _dispatcher.ReceiveMessageAsync("ann", Text, "room:b").Bounded());
        Assert.True(await _dispatcher.ReceiveMessageAsync("ann", Text, "room:a").Bounded());

        Assert.Equal(["rooms ann channel=room:a matched=[room:a]"], _seen);
    }

    [Fact]
    public async Task A_handler_without_a_pattern_matches_no_channel_and_subscription_handlers_match_the_channel_joined_or_left()
    {
        Record(LifecycleEvent.Message, "plain");
        Record(LifecycleEvent.Subscribed, "joined");
        Record(LifecycleEvent.Unsubscribed, "left", "^room:");
        Record(LifecycleEvent.Finished, "finished", "^room:");
        await RegisterAsync("ann");

        await _dispatcher.ReceiveMessageAsync("ann", Text).Bounded();
        await _dispatcher.SubscribeAsync("ann", "room:a").Bounded();
        await _dispatcher.SubscribeAsync("ann", "lobby").Bounded();
        await _dispatcher.UnregisterUserAsync("ann").Bounded();

        Assert.Equal(
            [
                "plain ann channel=(none) matched=[]",
                "joined ann channel=room:a matched=[room:a]",
                "joined ann channel=lobby matched=[lobby]",
                "left ann channel=room:a matched=[room:a]",
                "finished ann channel=(none) matched=[room:a]",
            ],
            _seen);
    }

    [Fact]
    public async Task The_readme_message_handler_posts_only_to_the_rooms_its_sender_is_in()
    {
        using var binding = ReadmeMessageHandler.Bind(_dispatcher);
        await RegisterAsync("ann", "room:a");
        await RegisterAsync("bob", "room:b");
        await RegisterAsync("cid");

        Assert.True(await _dispatcher.ReceiveMessageAsync("ann", Text).Bounded());
        Assert.False(await _dispatcher.ReceiveMessageAsync("ann", Text, "room:b").Bounded());
        Assert.True(await _dispatcher.ReceiveMessageAsync("ann", Text, "room:a").Bounded());

        var ann = await _dispatcher.PollAsync("ann", 0, TimeSpan.Zero).Bounded();
        Assert.Equal(["room:a", "room:a"], ann.Events!.Select(e => e.Channel));
        Assert.Null((await _dispatcher.PollAsync("bob", 0, TimeSpan.Zero).Bounded()).Events);
        Assert.Null((await _dispatcher.PollAsync("cid", 0, TimeSpan.Zero).Bounded()).Events);
    }

    [Fact]
    public async Task Keeping_a_disconnected_user_is_handed_from_one_handler_to_the_next()
    {
        var clock = new FakeTimeProvider();
        using var dispatcher = new CometyDispatcher(new DispatcherOptions { HeartbeatTimeout = TimeSpan.FromSeconds(1) }, timeProvider: clock);
        var seenByLast = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        dispatcher.On(LifecycleEvent.Disconnected, context =>
        {
            context.KeepRegistered = true;
            return default;
        }, "^room:");
        dispatcher.On(LifecycleEvent.Disconnected, context =>
        {
            seenByLast.TrySetResult(context.KeepRegistered);
            return default;
        }, "^room:");
        await dispatcher.RegisterUserAsync("ann").Bounded();
        await dispatcher.SubscribeAsync("ann", "room:a").Bounded();

        clock.Advance(TimeSpan.FromSeconds(7));

        Assert.True(await seenByLast.Task.Bounded());

        // Kept: its heartbeat is started again (not cancelled, as on the way out).
        using var timeout = new CancellationTokenSource(Bound);
        while (dispatcher.Timer.HeapSize == 0)
        {
            await Task.Yield();
            timeout.Token.ThrowIfCancellationRequested();
        }

        Assert.True(dispatcher.IsRegistered("ann"));
    }

    private async Task RegisterAsync(string user, params string[] channels)
    {
        await _dispatcher.RegisterUserAsync(user).Bounded();
        foreach (var channel in channels)
        {
            await _dispatcher.SubscribeAsync(user, channel).Bounded();
        }
    }

    private void Record(LifecycleEvent lifecycleEvent, string label, string? pattern = null) =>
        _dispatcher.On(lifecycleEvent, context =>
        {
            _seen.Enqueue($"{label} {context.UserId} channel={context.Channel ?? "(none)"} matched=[{string.Join(",", context.MatchedChannels)}]");
            return default;
        }, pattern);
}
