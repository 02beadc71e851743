using System.Collections.Concurrent;
using Comety.Internal;
using Comety.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Comety.Tests.Core;

public sealed class MultiTimerTests
{
    private readonly FakeTimeProvider _clock = new();
    private readonly ConcurrentQueue<string> _fired = new();

    [Fact]
    public void An_entry_fires_when_it_comes_due_and_not_before()
    {
        using var timer = new MultiTimer(_clock);
        timer.Reset(Entry("a"), TimeSpan.FromSeconds(10));

        _clock.Advance(TimeSpan.FromSeconds(9.999));
        Assert.Empty(_fired);
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(["a"], _fired);
    }

    [Fact]
    public void Entries_fire_in_due_order_whatever_the_order_they_were_scheduled_in()
    {
        using var timer = new MultiTimer(_clock);
        foreach (var seconds in new[] { 5, 1, 4, 2, 3 })
        {
            timer.Reset(Entry(seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)), TimeSpan.FromSeconds(seconds));
        }

        _clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(["1", "2", "3", "4", "5"], _fired);
    }

    [Fact]
    public void Resetting_moves_the_deadline_later_or_earlier()
    {
        using var timer = new MultiTimer(_clock);
        var later = Entry("later");
        var earlier = Entry("earlier");
        timer.Reset(later, TimeSpan.FromSeconds(5));
        timer.Reset(earlier, TimeSpan.FromSeconds(60));

        _clock.Advance(TimeSpan.FromSeconds(4));
        timer.Reset(later, TimeSpan.FromSeconds(5));
        timer.Reset(earlier, TimeSpan.FromSeconds(1));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["earlier"], _fired);
        _clock.Advance(TimeSpan.FromSeconds(3.9));
        Assert.Equal(["earlier"], _fired);
        _clock.Advance(TimeSpan.FromSeconds(0.1));

        Assert.Equal(["earlier", "later"], _fired);
    }

    [Fact]
    public void A_cancelled_entry_never_fires_and_can_be_scheduled_again()
    {
        using var timer = new MultiTimer(_clock);
        var entry = Entry("a");
        timer.Reset(entry, TimeSpan.FromSeconds(5));

        Assert.True(timer.Cancel(entry));
        Assert.False(timer.Cancel(entry));
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Empty(_fired);
        timer.Reset(entry, TimeSpan.FromSeconds(1));
        _clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(["a"], _fired);
    }

    [Fact]
    public void A_suspended_entry_does_not_fire_and_fires_when_reset()
    {
        using var timer = new MultiTimer(_clock);
        var entry = Entry("a");
        timer.Reset(entry, TimeSpan.FromSeconds(5));

        Assert.True(timer.Suspend(entry));
        Assert.False(timer.Suspend(entry));
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Empty(_fired);
        Assert.False(entry.Fired);
        timer.Reset(entry, TimeSpan.FromSeconds(1));
        _clock.Advance(TimeSpan.FromSeconds(0.999));
        Assert.Empty(_fired);
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(["a"], _fired);
        Assert.True(entry.Fired);
    }

    [Fact]
    public void Suspending_and_resetting_later_keeps_the_entrys_place_in_the_heap()
    {
        using var timer = new MultiTimer(_clock);
        var entry = Entry("poll");
        timer.Reset(entry, TimeSpan.FromSeconds(30));
        for (var i = 0; i < 1_000; i++)
        {
            timer.Suspend(entry);
            _clock.Advance(TimeSpan.FromMilliseconds(10));
            timer.Reset(entry, TimeSpan.FromSeconds(30));
        }

        // 1,000 stops and restarts within the first deadline: one slot, never a push.
        Assert.Equal(1, timer.HeapSize);
        _clock.Advance(TimeSpan.FromSeconds(29.999));
        Assert.Empty(_fired);
        Assert.Equal(1, timer.HeapSize);
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(["poll"], _fired);
        Assert.Equal(0, timer.HeapSize);
    }

    [Fact]
    public void A_suspended_entry_reset_earlier_fires_at_the_earlier_time()
    {
        using var timer = new MultiTimer(_clock);
        var entry = Entry("a");
        timer.Reset(entry, TimeSpan.FromSeconds(90));

        timer.Suspend(entry);
        timer.Reset(entry, TimeSpan.FromSeconds(15));
        _clock.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(["a"], _fired);
        _clock.Advance(TimeSpan.FromSeconds(90));

        Assert.Equal(["a"], _fired);
        Assert.Equal(0, timer.HeapSize);
    }

    [Fact]
    public void A_fired_entry_fires_once()
    {
        using var timer = new MultiTimer(_clock);
        var entry = Entry("a");
        timer.Reset(entry, TimeSpan.FromSeconds(1));

        _clock.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(["a"], _fired);
        Assert.True(entry.Fired);
        Assert.False(timer.Cancel(entry));
    }

    [Fact]
    public void Cancelled_entries_do_not_pile_up_in_the_heap()
    {
        using var timer = new MultiTimer(_clock);
        var live = Entry("live");
        timer.Reset(live, TimeSpan.FromHours(1));
        for (var i = 0; i < 10_000; i++)
        {
            var poll = Entry("poll");
            timer.Reset(poll, TimeSpan.FromMinutes(5));
            timer.Cancel(poll);
        }

        Assert.True(timer.HeapSize < 2_100, $"the heap holds {timer.HeapSize} slots");
        _clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(["live"], _fired);
        Assert.Equal(0, timer.HeapSize);
        Assert.True(live.Fired);
    }

    [Fact]
    public void Disposing_drops_pending_entries_and_refuses_new_ones()
    {
        var timer = new MultiTimer(_clock);
        timer.Reset(Entry("a"), TimeSpan.FromSeconds(1));

        timer.Dispose();
        _clock.Advance(TimeSpan.FromSeconds(5));

        Assert.Empty(_fired);
        Assert.Throws<ObjectDisposedException>(() => timer.Reset(Entry("b"), TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void A_throwing_callback_is_reported_and_the_others_still_fire()
    {
        var errors = new List<Exception>();
        using var timer = new MultiTimer(_clock, errors.Add);
        timer.Reset(new TimerEntry(_ => throw new InvalidOperationException("boom"), null), TimeSpan.FromSeconds(1));
        timer.Reset(Entry("after"), TimeSpan.FromSeconds(1));

        _clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal("boom", Assert.Single(errors).Message);
        Assert.Equal(["after"], _fired);
    }

    [Fact]
    public async Task Callbacks_run_off_the_thread_that_reset_them_even_when_already_due()
    {
        using var timer = new MultiTimer(TimeProvider.System);
        using var insideReset = new ThreadLocal<bool>();
        var ranInsideReset = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var entry = new TimerEntry(_ => ranInsideReset.TrySetResult(insideReset.Value), null);

        insideReset.Value = true;
        timer.Reset(entry, TimeSpan.Zero);
        insideReset.Value = false;

        Assert.False(await ranInsideReset.Task.WaitAsync(TestEvents.Bound));
    }

    // An entry as the dispatcher makes them (a user's heartbeat, a poll's deadline): created once,
    // then reset, suspended and cancelled on the timer.
    private TimerEntry Entry(string name) => new(Fire, name);

    private void Fire(object? state) => _fired.Enqueue((string)state!);
}
