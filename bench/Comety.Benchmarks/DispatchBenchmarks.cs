using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Comety.Benchmarks;

/// <summary>
/// One operation: one event posted, then every recipient's poll answered and confirmed, as a
/// server sees it when each recipient's next request arrives.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "BenchmarkDotNet ends a run with [GlobalCleanup], which disposes the dispatcher.")]
public class DispatchBenchmarks
{
    private const string Channel = "bench";
    private const string Sender = "bench";
    private const int MaxSubscribers = 100;

    private static readonly IReadOnlyDictionary<string, object?> Args = new Dictionary<string, object?>
    {
        [CometyEvent.TypeArgument] = "tick",
    };

    // Long enough that no waiting poll times out during a run; they end in the cleanup.
    private static readonly TimeSpan WaitTimeout = TimeSpan.FromMinutes(5);

    private CometyDispatcher _dispatcher = null!;
    private string[] _userIds = [];

    // Each user's page position: the last event its poll returned, which its next poll confirms.
    private long[] _positions = [];
    private int _subscriberCount;
    // As tasks, so they can be kept: a waiting async ValueTask method's task is already a Task, so AsTask allocates nothing.
    private Task<PollResult>[] _waitingPolls = [];

    /// <summary>Gets or sets how many users are registered.</summary>
    [Params(1, 1000, 10000)]
    public int Users { get; set; }

    [GlobalSetup(Targets = [nameof(Broadcast), nameof(OneChannel)])]
    public async Task SetUpAsync()
    {
        _dispatcher = new CometyDispatcher();
        _userIds = new string[Users];
        _positions = new long[Users];
        _subscriberCount = Math.Min(MaxSubscribers, Users);
        for (var i = 0; i < Users; i++)
        {
            var userId = "user-" + i.ToString(CultureInfo.InvariantCulture);
            _userIds[i] = userId;
            await _dispatcher.RegisterUserAsync(userId);

            // No heartbeat fires during a run, so no user leaves.
            _dispatcher.StopHeartbeat(userId);
            if (i < _subscriberCount)
            {
                await _dispatcher.SubscribeAsync(userId, Channel);
            }
        }
    }

    [GlobalSetup(Target = nameof(OneChannelWithWaitingPolls))]
    public async Task SetUpWaitingPollsAsync()
    {
        await SetUpAsync();
        _waitingPolls = new Task<PollResult>[Users];
        for (var i = 0; i < Users; i++)
        {
            _waitingPolls[i] = _dispatcher.PollAsync(_userIds[i], _positions[i], WaitTimeout).AsTask();
            if (_waitingPolls[i].IsCompleted)
            {
                throw new InvalidOperationException($"The poll of {_userIds[i]} returned at once instead of waiting.");
            }
        }
    }

    [GlobalCleanup]
    public async Task CleanUpAsync()
    {
        // Disposal ends the waiting polls: they return with no events.
        _dispatcher.Dispose();
        foreach (var poll in _waitingPolls)
        {
            await poll;
        }

        _waitingPolls = [];
    }

    /// <summary>A broadcast; every registered user polls without waiting and confirms.</summary>
    [Benchmark]
    [BenchmarkCategory("Broadcast, zero-timeout polls")]
    public async Task Broadcast()
    {
        await _dispatcher.BroadcastAsync(Sender, Args);
        for (var i = 0; i < _userIds.Length; i++)
        {
            await PollAndConfirmAsync(i);
        }
    }

    /// <summary>A post to a channel of min(100, Users) subscribers; they poll without waiting and confirm, the others stay idle.</summary>
    [Benchmark]
    [BenchmarkCategory("Channel, zero-timeout polls")]
    public async Task OneChannel()
    {
        await _dispatcher.PostToChannelAsync(Channel, Sender, Args);
        for (var i = 0; i < _subscriberCount; i++)
        {
            await PollAndConfirmAsync(i);
        }
    }

    /// <summary>
    /// Every user has a poll waiting; a post to the channel wakes the subscribers' polls, which
    /// are awaited and confirmed, and each subscriber then starts its next waiting poll. The other
    /// users' polls go on waiting.
    /// </summary>
    [Benchmark]
    [BenchmarkCategory("Channel, waiting polls")]
    public async Task OneChannelWithWaitingPolls()
    {
        await _dispatcher.PostToChannelAsync(Channel, Sender, Args);
        for (var i = 0; i < _subscriberCount; i++)
        {
            var result = await _waitingPolls[i];
            ConfirmOne(i, result);
            _waitingPolls[i] = _dispatcher.PollAsync(_userIds[i], _positions[i], WaitTimeout).AsTask();
        }
    }

    private async ValueTask PollAndConfirmAsync(int user)
    {
        var result = await _dispatcher.PollAsync(_userIds[user], _positions[user], TimeSpan.Zero);
        ConfirmOne(user, result);
    }

    // Checks that the poll found exactly the one event posted, so that a broken setup cannot pass
    // for a fast one, and moves the user's page to it: its next poll confirms it.
    private void ConfirmOne(int user, PollResult result)
    {
        if (result.Events is not { Count: 1 })
        {
            throw new InvalidOperationException($"The poll of {_userIds[user]} returned {result.Events?.Count ?? 0} events instead of 1.");
        }

        _positions[user] = result.LastId;
    }
}
