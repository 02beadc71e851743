using System.Net;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Comety.Tests.Http;

/// <summary>
/// Heartbeats over HTTP on a clock the tests move (PROTOCOL.md, "Timing and heartbeats"): a poll
/// stops the user's heartbeat and restarts it when it ends, for <c>HeartbeatTimeout</c> plus the
/// expected network delay, or five more heartbeat timeouts while that is unmeasured.
/// </summary>
public sealed class HeartbeatTests
{
    private static readonly TimeSpan HeartbeatTimeout = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_user_that_stops_polling_is_disconnected_then_finished_then_unregistered()
    {
        var clock = new FakeTimeProvider();
        await using var host = await StartAsync(clock).Bounded();
        var raised = Record(host, LifecycleEvent.Disconnected, LifecycleEvent.Finished);
        var finished = Signal(host, LifecycleEvent.Finished);
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await client.PollOkAsync("timeout=0");

        // Unmeasured delay: HeartbeatTimeout + 5 × HeartbeatTimeout = 6 s after the poll.
        clock.Advance(TimeSpan.FromSeconds(5.9));
        Assert.True(host.Dispatcher.IsRegistered("ann"));
        Assert.Empty(Snapshot(raised));
        clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal("ann", await finished.Task.Bounded());
        await CometyHttp.WaitUntilAsync(() => !host.Dispatcher.IsRegistered("ann"), "ann is unregistered");

        Assert.Equal(["Disconnected ann", "Finished ann"], Snapshot(raised));
        using var response = await client.PollAsync("timeout=0").Bounded();
        await response.AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Once_the_delay_is_measured_the_heartbeat_allows_the_timeout_plus_the_expected_delay()
    {
        var clock = new FakeTimeProvider();
        await using var host = await StartAsync(clock).Bounded();
        var finished = Signal(host, LifecycleEvent.Finished);
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await client.PollOkAsync("timeout=0");
        clock.Advance(TimeSpan.FromSeconds(0.5));

        // 0.5 s since the last answer, none of it spent by the client: a delay of 0.5 s.
        await client.PollOkAsync("timeout=0&elapsed=0");
        clock.Advance(TimeSpan.FromSeconds(1.4));
        Assert.True(host.Dispatcher.IsRegistered("ann"));
        clock.Advance(TimeSpan.FromSeconds(0.1));

        Assert.Equal("ann", await finished.Task.Bounded());
    }

    [Fact]
    public async Task A_user_that_keeps_polling_stays_registered()
    {
        var clock = new FakeTimeProvider();
        await using var host = await StartAsync(clock).Bounded();
        var raised = Record(host, LifecycleEvent.Disconnected, LifecycleEvent.Finished);
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        for (var i = 0; i < 10; i++)
        {
            await client.PollOkAsync("timeout=0");
            clock.Advance(TimeSpan.FromSeconds(5));
        }

        var answer = await client.PollOkAsync("timeout=0");
        Assert.Null(answer.Events);
        Assert.True(host.Dispatcher.IsRegistered("ann"));
        Assert.Empty(Snapshot(raised));
    }

    [Fact]
    public async Task A_waiting_poll_stops_the_heartbeat()
    {
        var clock = new FakeTimeProvider();
        await using var host = await StartAsync(clock).Bounded();
        var raised = Record(host, LifecycleEvent.Disconnected, LifecycleEvent.Finished);
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        // Held for 50 s of the test's clock, far beyond the heartbeat.
        var poll = client.PollAsync("timeout=100");
        await host.WaitUntilPollsWaitAsync();
        clock.Advance(TimeSpan.FromSeconds(30));
        var seq = await host.Dispatcher.PostToUserAsync("ann", "Chat", TestEvents.Args("late")).Bounded();
        using var response = await poll.Bounded();
        var answer = await CometyHttp.ReadAnswerAsync(response);

        Assert.Equal([seq!.Value], answer.Sequences);
        Assert.True(host.Dispatcher.IsRegistered("ann"));
        Assert.Empty(Snapshot(raised));
    }

    [Fact]
    public async Task A_timed_out_user_leaves_its_channels()
    {
        var clock = new FakeTimeProvider();
        await using var host = await StartAsync(clock).Bounded();
        var left = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var handler = host.Dispatcher.On(LifecycleEvent.Unsubscribed, context =>
        {
            left.TrySetResult(context.Channel);
            return ValueTask.CompletedTask;
        }, "^room-");
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await client.SendNoContentAsync("""{"type": "subscribe", "channel": "room-1"}""");
        await client.PollOkAsync("timeout=0");

        clock.Advance(HeartbeatTimeout * 6);

        Assert.Equal("room-1", await left.Task.Bounded());
        await CometyHttp.WaitUntilAsync(() => !host.Dispatcher.IsRegistered("ann"), "ann is unregistered");
        Assert.Empty(host.Dispatcher.GetSubscribers("room-1"));
    }

    [Fact]
    public async Task A_Disconnected_handler_can_keep_the_user_registered()
    {
        var clock = new FakeTimeProvider();
        await using var host = await StartAsync(clock).Bounded();
        var raised = Record(host, LifecycleEvent.Finished);
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var keep = host.Dispatcher.On(LifecycleEvent.Disconnected, context =>
        {
            context.KeepRegistered = true;
            disconnected.TrySetResult();
            return ValueTask.CompletedTask;
        });
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await client.PollOkAsync("timeout=0");

        clock.Advance(HeartbeatTimeout * 6);
        await disconnected.Task.Bounded();
        await CometyHttp.WaitUntilAsync(() => host.Logged("KeptRegistered", "'ann'"), "the dispatcher keeps ann");

        var answer = await client.PollOkAsync("timeout=0");
        Assert.Null(answer.Events);
        Assert.True(host.Dispatcher.IsRegistered("ann"));
        Assert.Empty(Snapshot(raised));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_timed_out_user_is_announced_with_unregister_user_only_when_NotifyOnTimeout_is_on(bool notifyOnTimeout)
    {
        var clock = new FakeTimeProvider();
        await using var host = await StartAsync(clock, notifyOnTimeout).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        await host.Dispatcher.RegisterUserAsync("bob").Bounded();
        using var ann = host.CreateClient("ann");
        using var bob = host.CreateClient("bob");
        await ann.PollOkAsync("timeout=0");

        // Bob waits (which stops his heartbeat) while ann's runs out.
        var poll = bob.PollAsync("timeout=100");
        await host.WaitUntilPollsWaitAsync();
        clock.Advance(HeartbeatTimeout * 6);
        if (!notifyOnTimeout)
        {
            await CometyHttp.WaitUntilAsync(() => host.Logged("UserUnregistered", "'ann'"), "ann is unregistered");
            await host.Dispatcher.BroadcastAsync("Test", TestEvents.Args("marker")).Bounded();
        }

        using var response = await poll.Bounded();
        var answer = await CometyHttp.ReadAnswerAsync(response);

        var only = Assert.Single(answer.Events!);
        if (notifyOnTimeout)
        {
            Assert.Equal(CometyDispatcher.SenderName, only.Sender.GetString());
            Assert.Equal("unregister-user", only.Type);
            Assert.Equal("ann", only.Args.GetProperty("userId").GetString());
        }
        else
        {
            Assert.Equal("marker", only.Type);
        }

        Assert.False(host.Dispatcher.IsRegistered("ann"));
    }

    private static Task<TestHost> StartAsync(FakeTimeProvider clock, bool notifyOnTimeout = false) =>
        TestHost.StartAsync(new TestHostOptions
        {
            Antiforgery = false,
            TimeProvider = clock,
            HeartbeatTimeout = HeartbeatTimeout,
            Configure = o => o.NotifyOnTimeout = notifyOnTimeout,
        });

    // Handlers without a channel pattern run for users subscribed to no channel, as these are.
    private static List<string> Record(TestHost host, params LifecycleEvent[] events)
    {
        var raised = new List<string>();
        foreach (var lifecycleEvent in events)
        {
            host.Dispatcher.On(lifecycleEvent, context =>
            {
                lock (raised)
                {
                    raised.Add($"{context.Event} {context.UserId}");
                }

                return ValueTask.CompletedTask;
            });
        }

        return raised;
    }

    private static string[] Snapshot(List<string> raised)
    {
        lock (raised)
        {
            return [.. raised];
        }
    }

    private static TaskCompletionSource<string?> Signal(TestHost host, LifecycleEvent lifecycleEvent)
    {
        var signal = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Dispatcher.On(lifecycleEvent, context =>
        {
            signal.TrySetResult(context.UserId);
            return ValueTask.CompletedTask;
        });
        return signal;
    }
}
