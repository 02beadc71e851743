using System.Collections.Concurrent;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Core;

/// <summary>
/// Posters, subscription churners and hundreds of polling users at once; afterwards every user
/// must have received exactly the events meant for it, each once, in sequence order.
/// </summary>
public sealed class ConcurrencyTests
{
    private const int Users = 200;
    private const int StableChannels = 5;
    private const int ChurnChannels = 4;
    private const int Posters = 3;
    private const int PostsPerPoster = 400;
    private const int Churners = 2;

    private readonly ConcurrentDictionary<long, Posted> _posted = new();

    private enum Kind { Broadcast, Stable, Churn, ToUser }

    [Fact]
    public async Task Every_user_receives_exactly_its_events_once_and_in_order_under_concurrent_load()
    {
        using var dispatcher = new CometyDispatcher(new DispatcherOptions { MaxBacklog = 100_000, MaxRetainedEvents = 1_000_000 });
        var users = Enumerable.Range(0, Users).Select(i => $"user-{i}").ToArray();
        foreach (var (user, i) in users.Select((u, i) => (u, i)))
        {
            await dispatcher.RegisterUserAsync(user).Bounded();
            dispatcher.StopHeartbeat(user);
            await dispatcher.SubscribeAsync(user, $"stable-{i % StableChannels}").Bounded();
        }

        var memberships = users.ToDictionary(u => u, _ => new List<Membership>());
        using var stop = new CancellationTokenSource();
        var postersDone = 0;

        var received = users.ToDictionary(u => u, _ => new List<long>());
        var pollers = users.Select(user => Task.Run(() => PollLoopAsync(dispatcher, user, received[user], () => Volatile.Read(ref postersDone) == Posters))).ToArray();
        var churners = Enumerable.Range(0, Churners)
            .Select(t => Task.Run(() => ChurnLoopAsync(dispatcher, users.Where((_, i) => i % Churners == t).ToArray(), memberships, t, stop.Token)))
            .ToArray();
        var posters = Enumerable.Range(0, Posters).Select(p => Task.Run(async () =>
        {
            await PostLoopAsync(dispatcher, users, p);
            Interlocked.Increment(ref postersDone);
        })).ToArray();

        await Task.WhenAll(posters).WaitAsync(TimeSpan.FromSeconds(60));
        stop.Cancel();
        await Task.WhenAll(churners).WaitAsync(TimeSpan.FromSeconds(30));
        await Task.WhenAll(pollers).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(Posters * PostsPerPoster, _posted.Count);
        foreach (var user in users)
        {
            Check(user, received[user], memberships[user]);
        }

        // Inboxes keep events for pages that may come back; once their users are gone, nothing is left.
        foreach (var user in users)
        {
            await dispatcher.UnregisterUserAsync(user).Bounded();
        }

        Assert.Equal(0, dispatcher.RetainedEventCount);
    }

    private async Task PostLoopAsync(CometyDispatcher dispatcher, string[] users, int poster)
    {
        var random = new Random(1000 + poster);
        for (var i = 0; i < PostsPerPoster; i++)
        {
            var kind = (Kind)random.Next(4);
            string? channel = null;
            string? target = null;
            long? sequence;
            switch (kind)
            {
                case Kind.Broadcast:
                    sequence = await dispatcher.BroadcastAsync(poster, Args("broadcast"));
                    break;
                case Kind.Stable:
                    channel = $"stable-{random.Next(StableChannels)}";
                    sequence = await dispatcher.PostToChannelAsync(channel, poster, Args("stable"));
                    break;
                case Kind.Churn:
                    channel = $"churn-{random.Next(ChurnChannels)}";
                    sequence = await dispatcher.PostToChannelAsync(channel, poster, Args("churn"));
                    break;
                default:
                    target = users[random.Next(users.Length)];
                    sequence = await dispatcher.PostToUserAsync(target, poster, Args("direct"));
                    break;
            }

            Assert.True(_posted.TryAdd(sequence!.Value, new Posted(kind, channel, target)));
            if (i % 16 == 0)
            {
                await Task.Yield();
            }
        }
    }

    private static async Task PollLoopAsync(CometyDispatcher dispatcher, string user, List<long> received, Func<bool> postersDone)
    {
        long position = 0;
        while (true)
        {
            // Read before polling: once the posters are done, an empty poll means nothing is left.
            var done = postersDone();
            var result = await dispatcher.PollAsync(user, position, done ? TimeSpan.Zero : TimeSpan.FromMilliseconds(50));
            if (result.Events is { } events)
            {
                received.AddRange(events.Select(e => e.Sequence));
            }

            position = result.LastId;
            if (done && result.Events is null)
            {
                return;
            }
        }
    }

    private static async Task ChurnLoopAsync(CometyDispatcher dispatcher, string[] users, Dictionary<string, List<Membership>> memberships, int churner, CancellationToken stop)
    {
        var random = new Random(2000 + churner);
        while (!stop.IsCancellationRequested)
        {
            var user = users[random.Next(users.Length)];
            var channel = $"churn-{random.Next(ChurnChannels)}";
            var history = memberships[user];
            var open = history.FindLast(m => m.Channel == channel && m.LeaveStarted == long.MaxValue);
            if (open is null)
            {
                var joinStarted = dispatcher.LastDeliveredSequence;
                await dispatcher.SubscribeAsync(user, channel, CancellationToken.None);
                history.Add(new Membership(channel, joinStarted, dispatcher.LastSequence));
            }
            else
            {
                open.LeaveStarted = dispatcher.LastDeliveredSequence;
                await dispatcher.UnsubscribeAsync(user, channel, CancellationToken.None);
                open.LeaveEnded = dispatcher.LastSequence;
            }

            await Task.Yield();
        }
    }

    private void Check(string user, List<long> received, List<Membership> memberships)
    {
        for (var i = 1; i < received.Count; i++)
        {
            Assert.True(received[i - 1] < received[i], $"{user} received #{received[i - 1]} before #{received[i]}");
        }

        var userIndex = int.Parse(user.AsSpan("user-".Length), System.Globalization.CultureInfo.InvariantCulture);
        var stableChannel = $"stable-{userIndex % StableChannels}";
        var got = received.ToHashSet();
        foreach (var (sequence, posted) in _posted)
        {
            var has = got.Contains(sequence);
            switch (posted.Kind)
            {
                case Kind.Broadcast:
                    Assert.True(has, $"{user} missed broadcast #{sequence}");
                    break;
                case Kind.Stable:
                    Assert.True(has == (posted.Channel == stableChannel), $"{user} {(has ? "received" : "missed")} #{sequence} on {posted.Channel}");
                    break;
                case Kind.ToUser:
                    Assert.True(has == (posted.Target == user), $"{user} {(has ? "received" : "missed")} #{sequence} for {posted.Target}");
                    break;
                case Kind.Churn:
                    var periods = memberships.Where(m => m.Channel == posted.Channel).ToList();
                    var required = periods.Any(m => sequence > m.JoinEnded && sequence <= m.LeaveStarted);
                    var allowed = periods.Any(m => sequence > m.JoinStarted && sequence <= m.LeaveEnded);
                    Assert.True(!required || has, $"{user} missed #{sequence} on {posted.Channel} while subscribed");
                    Assert.True(allowed || !has, $"{user} received #{sequence} on {posted.Channel} while not subscribed");
                    break;
            }
        }

        Assert.All(received, sequence => Assert.True(_posted.ContainsKey(sequence), $"{user} received unknown #{sequence}"));
    }

    private sealed record Posted(Kind Kind, string? Channel, string? Target);

    private sealed class Membership(string channel, long joinStarted, long joinEnded)
    {
        public string Channel { get; } = channel;

        public long JoinStarted { get; } = joinStarted;

        public long JoinEnded { get; } = joinEnded;

        public long LeaveStarted { get; set; } = long.MaxValue;

        public long LeaveEnded { get; set; } = long.MaxValue;
    }
}
