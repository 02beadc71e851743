using System.Collections.Concurrent;
using Comety.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Core;

/// <summary><see cref="CometyDispatcher.EnsureRegisteredAsync"/>: registration that a page can ask for on every render.</summary>
public sealed class EnsureRegisteredTests : IDisposable
{
    private readonly CometyDispatcher _dispatcher = new(timeProvider: new FakeTimeProvider());
    private readonly ConcurrentQueue<string> _seen = new();

    public EnsureRegisteredTests()
    {
        _dispatcher.On(LifecycleEvent.Connected, context =>
        {
            _seen.Enqueue("connected " + context.UserId);
            return default;
        });
    }

    public void Dispose() => _dispatcher.Dispose();

    [Fact]
    public async Task Ensuring_an_unknown_user_registers_it_raises_Connected_and_returns_true()
    {
        Assert.True(await _dispatcher.EnsureRegisteredAsync("ann").Bounded());

        Assert.True(_dispatcher.IsRegistered("ann"));
        Assert.Equal(["connected ann"], _seen);
    }

    [Fact]
    public async Task Ensuring_a_registered_user_changes_nothing_and_returns_false()
    {
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        await _dispatcher.SubscribeAsync("ann", "room:a").Bounded();
        await _dispatcher.BroadcastAsync("test", Args("kept")).Bounded();

        Assert.False(await _dispatcher.EnsureRegisteredAsync("ann", notify: true).Bounded());

        Assert.Equal(["connected ann"], _seen);
        Assert.Equal(["room:a"], _dispatcher.GetChannels("ann"));
        Assert.Equal(["kept"], (await _dispatcher.PollAsync("ann", 0, TimeSpan.Zero).Bounded()).Types());
        Assert.Equal(1, _dispatcher.UserCount);
    }

    [Fact]
    public async Task Concurrent_ensures_register_the_user_once_and_notify_and_raise_Connected_once()
    {
        await _dispatcher.RegisterUserAsync("watcher").Bounded();
        using var start = new ManualResetEventSlim();
        var calls = Enumerable.Range(0, 32)
            .Select(_ => Task.Run(async () =>
            {
                start.Wait(Bound);
                return await _dispatcher.EnsureRegisteredAsync("ann", notify: true);
            }))
            .ToArray();

        start.Set();
        var results = await Task.WhenAll(calls).Bounded();

        Assert.Single(results, registered => registered);
        Assert.Equal(["connected watcher", "connected ann"], _seen);
        Assert.Equal(2, _dispatcher.UserCount);
        var watcher = await _dispatcher.PollAsync("watcher", 0, TimeSpan.Zero).Bounded();
        Assert.Equal(["register-user"], watcher.Types());
    }

    [Fact]
    public async Task Ensuring_a_leaving_user_waits_until_it_is_gone_then_registers_it_afresh()
    {
        var finishing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _dispatcher.On(LifecycleEvent.Finished, async context =>
        {
            _seen.Enqueue("finished " + context.UserId);
            finishing.TrySetResult();
            await release.Task;
        }, "^room:");
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        await _dispatcher.SubscribeAsync("ann", "room:a").Bounded();
        var leaving = _dispatcher.UnregisterUserAsync("ann").AsTask();
        await finishing.Task.Bounded();

        var ensure = _dispatcher.EnsureRegisteredAsync("ann").AsTask();

        Assert.False(ensure.IsCompleted, "The leaving user was registered again before its Finished handlers had run.");
        Assert.False(_dispatcher.IsRegistered("ann"));
        release.SetResult();
        Assert.True(await ensure.Bounded());
        await leaving.Bounded();
        Assert.Equal(["connected ann", "finished ann", "connected ann"], _seen);
        Assert.True(_dispatcher.IsRegistered("ann"));
        Assert.Empty(_dispatcher.GetChannels("ann"));
        Assert.Equal(1, _dispatcher.UserCount);
    }

    [Fact]
    public async Task Waiting_for_a_leaving_user_can_be_cancelled()
    {
        var finishing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _dispatcher.On(LifecycleEvent.Finished, async _ =>
        {
            finishing.TrySetResult();
            await release.Task;
        });
        await _dispatcher.RegisterUserAsync("ann").Bounded();
        var leaving = _dispatcher.UnregisterUserAsync("ann").AsTask();
        await finishing.Task.Bounded();
        using var cancel = new CancellationTokenSource();

        var ensure = _dispatcher.EnsureRegisteredAsync("ann", cancellationToken: cancel.Token).AsTask();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ensure.Bounded());
        release.SetResult();
        await leaving.Bounded();
        Assert.False(_dispatcher.IsRegistered("ann"));
    }

    [Fact]
    public async Task An_empty_user_id_is_rejected()
    {
        await Assert.ThrowsAsync<ArgumentNullException>(() => _dispatcher.EnsureRegisteredAsync(null!).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _dispatcher.EnsureRegisteredAsync("").AsTask());
    }
}
