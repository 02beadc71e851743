using System.Net;
using System.Text;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Http;

/// <summary>What a page's sends do: subscriptions reach the dispatcher, messages its handlers (PROTOCOL.md, "Send").</summary>
public sealed class SendTests
{
    private static TestHostOptions WithoutAntiforgery() => new() { Antiforgery = false };

    [Fact]
    public async Task Subscribe_answers_204_and_the_user_receives_the_channels_events()
    {
        await using var host = await TestHost.StartAsync(WithoutAntiforgery()).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        await client.SendNoContentAsync("""{"type": "subscribe", "channel": "room-1"}""");
        var seq = await host.Dispatcher.PostToChannelAsync("room-1", "Chat", Args("message")).Bounded();
        var answer = await client.PollOkAsync("timeout=10");

        Assert.Equal(["room-1"], host.Dispatcher.GetChannels("ann"));
        Assert.Equal([seq!.Value], answer.Sequences);
        Assert.Equal("room-1", answer.Events![0].Channel);
    }

    [Fact]
    public async Task Unsubscribe_answers_204_and_the_user_stops_receiving_the_channels_events()
    {
        await using var host = await TestHost.StartAsync(WithoutAntiforgery()).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await client.SendNoContentAsync("""{"type": "subscribe", "channel": "room-1"}""");
        await client.SendNoContentAsync("""{"type": "subscribe", "channel": "room-2"}""");

        await client.SendNoContentAsync("""{"type": "unsubscribe", "channel": "room-1"}""");
        await host.Dispatcher.PostToChannelAsync("room-1", "Chat", Args("message")).Bounded();
        var answer = await client.PollOkAsync("timeout=0");

        Assert.Equal(["room-2"], host.Dispatcher.GetChannels("ann"));
        Assert.Empty(host.Dispatcher.GetSubscribers("room-1"));
        Assert.Null(answer.Events);
    }

    [Theory]
    [InlineData("""{"text":"hi","to":["bob"]}""")]
    [InlineData("""[1,"two",null]""")]
    [InlineData("\"plain\"")]
    [InlineData("42")]
    [InlineData("true")]
    [InlineData("null")]
    public async Task A_message_without_a_channel_runs_the_message_handlers_with_its_data(string data)
    {
        await using var host = await TestHost.StartAsync(WithoutAntiforgery()).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        var received = new TaskCompletionSource<(string? User, string? Channel, string? Data)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var handler = host.Dispatcher.On(LifecycleEvent.Message, context =>
        {
            received.TrySetResult((context.UserId, context.Channel, context.Data?.GetRawText()));
            return ValueTask.CompletedTask;
        });
        using var client = host.CreateClient("ann");

        await client.SendNoContentAsync($$"""{"type":"message","data":{{data}}}""");

        Assert.Equal(("ann", (string?)null, data), await received.Task.Bounded());
    }

    [Fact]
    public async Task A_message_to_a_channel_runs_the_handlers_whose_pattern_matches_the_channel()
    {
        await using var host = await TestHost.StartAsync(WithoutAntiforgery()).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();

        // A message may go only to a channel its sender is in; the other one must not match.
        await host.Dispatcher.SubscribeAsync("ann", "room-1").Bounded();
        await host.Dispatcher.SubscribeAsync("ann", "game-1").Bounded();
        var matching = new TaskCompletionSource<(string? User, string? Channel, string? Data)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var others = new List<string>();
        using var rooms = host.Dispatcher.On(LifecycleEvent.Message, context =>
        {
            matching.TrySetResult((context.UserId, context.Channel, context.Data?.GetRawText()));
            return ValueTask.CompletedTask;
        }, "^room-");
        using var games = host.Dispatcher.On(LifecycleEvent.Message, context =>
        {
            lock (others)
            {
                others.Add("game");
            }

            return ValueTask.CompletedTask;
        }, "^game-");
        using var anyUnsubscribed = host.Dispatcher.On(LifecycleEvent.Message, context =>
        {
            lock (others)
            {
                others.Add("no pattern");
            }

            return ValueTask.CompletedTask;
        });
        using var client = host.CreateClient("ann");

        await client.SendNoContentAsync("""{"type": "message", "data": {"text": "hi"}, "channel": "room-1"}""");

        Assert.Equal(("ann", "room-1", """{"text": "hi"}"""), await matching.Task.Bounded());
        lock (others)
        {
            Assert.Empty(others);
        }
    }

    [Fact]
    public async Task A_send_whose_content_type_has_a_charset_is_json_too()
    {
        await using var host = await TestHost.StartAsync(WithoutAntiforgery()).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"type": "subscribe", "channel": "room-1"}"""));
        content.Headers.TryAddWithoutValidation("Content-Type", "Application/JSON; charset=utf-8");

        using var response = await client.SendBodyAsync(content).Bounded();

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(["room-1"], host.Dispatcher.GetChannels("ann"));
    }

    [Fact]
    public async Task A_message_of_exactly_MaxMessageBytes_is_accepted_with_Content_Length_and_chunked()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Antiforgery = false, MaxMessageBytes = 1024 }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        var count = 0;
        using var handler = host.Dispatcher.On(LifecycleEvent.Message, _ =>
        {
            Interlocked.Increment(ref count);
            return ValueTask.CompletedTask;
        });
        using var client = host.CreateClient("ann");
        var body = SendValidationTests.MessageOfLength(1024);

        using var withLength = await client.SendBodyAsync(new ByteArrayContent(body) { Headers = { { "Content-Type", "application/json" } } }).Bounded();
        using var chunked = await client.SendBodyAsync(new UnknownLengthContent(body, "application/json")).Bounded();

        Assert.Equal(HttpStatusCode.NoContent, withLength.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, chunked.StatusCode);
        Assert.Equal(2, Volatile.Read(ref count));
    }

    [Fact]
    public async Task A_MaxMessageBytes_of_int_MaxValue_takes_messages()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Antiforgery = false, MaxMessageBytes = int.MaxValue }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        await client.SendNoContentAsync("""{"type": "subscribe", "channel": "room-1"}""");
        using var chunked = await client.SendBodyAsync(new UnknownLengthContent(Encoding.UTF8.GetBytes("""{"type": "subscribe", "channel": "room-2"}"""), "application/json")).Bounded();

        Assert.Equal(HttpStatusCode.NoContent, chunked.StatusCode);
        Assert.Equal(["room-1", "room-2"], host.Dispatcher.GetChannels("ann").Order());
    }
}
