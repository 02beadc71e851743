using System.Text.Json;
using Comety.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Core;

/// <summary>Every public member that takes a channel checks it: a null channel never turns a channel post into a broadcast.</summary>
public sealed class ChannelArgumentTests : IDisposable
{
    private readonly CometyDispatcher _dispatcher = new(timeProvider: new FakeTimeProvider());

    public void Dispose() => _dispatcher.Dispose();

    public static TheoryData<string> InvalidNames => ["", "line\nbreak", "bell\u0007", new string('x', 201)];

    public static TheoryData<string, bool> Names => new()
    {
        { "room:1", true },
        { new string('c', CometyDispatcher.MaxChannelNameLength), true },
        { "", false },
        { "a\nb", false },
        { new string('c', CometyDispatcher.MaxChannelNameLength + 1), false },
    };

    [Fact]
    public async Task Posting_to_a_null_channel_throws_and_reaches_nobody()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        var before = _dispatcher.LastSequence;

        var error = await Assert.ThrowsAsync<ArgumentNullException>(() => _dispatcher.PostToChannelAsync(null!, "test", Args("e")).AsTask());

        Assert.Equal("channel", error.ParamName);
        Assert.Equal(before, _dispatcher.LastSequence);
        Assert.Null((await _dispatcher.PollAsync("u1", 0, TimeSpan.Zero).Bounded()).Events);
    }

    [Fact]
    public async Task Every_member_that_requires_a_channel_rejects_null_with_an_argument_null_exception()
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();
        var calls = new Func<Task>[]
        {
            () => _dispatcher.PostToChannelAsync(null!, "test", Args("e")).AsTask(),
            () => _dispatcher.SubscribeAsync("u1", null!).AsTask(),
            () => _dispatcher.UnsubscribeAsync("u1", null!).AsTask(),
            () => Task.Run(() => _dispatcher.GetSubscribers(null!)),
        };

        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<ArgumentNullException>(call);
            Assert.Equal("channel", error.ParamName);
        }

        Assert.False(CometyDispatcher.IsValidChannelName(null));
    }

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public async Task Every_member_that_takes_a_channel_rejects_an_invalid_name_with_an_argument_exception(string channel)
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();

        foreach (var call in MembersTaking(channel))
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(call);
            Assert.Equal("channel", error.ParamName);
        }

        Assert.Equal(0, _dispatcher.LastSequence);
    }

    [Fact]
    public void An_event_created_without_a_channel_is_for_no_channel()
    {
        var e = new CometyEvent("test", Args("e"));

        Assert.Null(e.Channel);
        Assert.False(e.Args.ContainsKey(CometyEvent.ChannelArgument));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("room:b")]
    public void An_event_whose_arguments_name_another_channel_than_it_is_posted_to_is_rejected(string? channel)
    {
        // Without the check, new CometyEvent(sender, {"channel": "room:a"}) would be a broadcast
        // that every user receives as if it were room:a's.
        var error = Assert.Throws<ArgumentException>(() => new CometyEvent("test", Args("e", (CometyEvent.ChannelArgument, "room:a")), channel));

        Assert.Equal("args", error.ParamName);
    }

    [Fact]
    public void An_event_whose_arguments_name_the_channel_it_is_posted_to_is_accepted()
    {
        var e = new CometyEvent("test", Args("e", (CometyEvent.ChannelArgument, "room:a")), "room:a");

        Assert.Equal("room:a", e.Channel);
        Assert.Equal("room:a", e.Args[CometyEvent.ChannelArgument]);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task IsValidChannelName_states_the_rule_every_member_that_takes_a_channel_applies(string name, bool valid)
    {
        await _dispatcher.RegisterUserAsync("u1").Bounded();

        Assert.Equal(valid, CometyDispatcher.IsValidChannelName(name));
        foreach (var call in MembersTaking(name))
        {
            var error = await Record.ExceptionAsync(call);
            Assert.Equal(valid ? null : typeof(ArgumentException), error?.GetType());
        }
    }

    // Every public member that takes a channel, called with the given one for the registered user u1.
    private Func<Task>[] MembersTaking(string channel)
    {
        var data = JsonDocument.Parse("1").RootElement;
        return
        [
            () => _dispatcher.PostToChannelAsync(channel, "test", Args("e")).AsTask(),
            () => _dispatcher.SubscribeAsync("u1", channel).AsTask(),
            () => _dispatcher.UnsubscribeAsync("u1", channel).AsTask(),
            () => Task.Run(() => _dispatcher.GetSubscribers(channel)),
            () => _dispatcher.ReceiveMessageAsync("u1", data, channel).AsTask(),
            () => Task.Run(() => new CometyEvent("test", Args("e"), channel)),
        ];
    }
}
