using Comety.Tests.Infrastructure;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Core;

public sealed class InMemoryEventLogTests
{
    private readonly InMemoryEventLog _log = new();

    [Fact]
    public async Task Appending_numbers_events_from_one_in_order()
    {
        var first = await _log.AppendAsync(new CometyEvent("s", Args("a"))).Bounded();
        var second = await _log.AppendAsync(new CometyEvent("s", Args("b"))).Bounded();

        Assert.Equal(1, first.Sequence);
        Assert.Equal(2, second.Sequence);
        Assert.Equal(2, _log.LastSequence);
    }

    [Fact]
    public async Task Reading_starts_at_the_given_number_and_stops_at_the_count()
    {
        for (var i = 0; i < 5; i++)
        {
            await _log.AppendAsync(new CometyEvent("s", Args("e"))).Bounded();
        }

        var read = await _log.ReadAsync(2, 3).Bounded();
        var tail = await _log.ReadAsync(5, 10).Bounded();
        var beyond = await _log.ReadAsync(6, 10).Bounded();

        Assert.Equal([2L, 3, 4], read.Select(e => e.Sequence));
        Assert.Equal([5L], tail.Select(e => e.Sequence));
        Assert.Empty(beyond);
    }

    [Fact]
    public async Task Trimming_discards_the_events_before_the_given_number_only()
    {
        for (var i = 0; i < 5; i++)
        {
            await _log.AppendAsync(new CometyEvent("s", Args("e"))).Bounded();
        }

        await _log.TrimAsync(4).Bounded();
        var read = await _log.ReadAsync(1, 10).Bounded();

        Assert.Equal([4L, 5], read.Select(e => e.Sequence));
        Assert.Equal(5, _log.LastSequence);
    }

    [Fact]
    public async Task Waiting_for_newer_events_completes_on_the_next_append()
    {
        var wait = _log.WaitForNewerAsync(0).AsTask();
        Assert.False(wait.IsCompleted);

        await _log.AppendAsync(new CometyEvent("s", Args("e"))).Bounded();

        Assert.Equal(1, await wait.Bounded());
        Assert.Equal(1, await _log.WaitForNewerAsync(0).Bounded());
    }

    [Fact]
    public async Task Waiting_for_newer_events_can_be_cancelled()
    {
        using var cancel = new CancellationTokenSource();
        var wait = _log.WaitForNewerAsync(0, cancel.Token).AsTask();

        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.Bounded());
    }
}
