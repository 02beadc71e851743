using Comety.LoadTest;

namespace Comety.Tests.LoadTest;

/// <summary>The load test's bookkeeping (compiled in from bench/Comety.LoadTest): it must catch every duplicate, reordering and stray event.</summary>
[Trait("Category", "LoadTest")]
public sealed class EventBookTests
{
    [Fact]
    public void Receipts_in_order_count_once_with_their_latency()
    {
        var book = new EventBook(clients: 2, maxEvents: 3);

        book.Record(0, 0, sentAt: 100, receivedAt: 150);
        book.Record(0, 1, sentAt: 200, receivedAt: 230);
        book.Record(1, 0, sentAt: 100, receivedAt: 190);

        Assert.Equal(3, book.Received);
        Assert.Equal(50, book.Latency(0, 0));
        Assert.Equal(30, book.Latency(0, 1));
        Assert.Equal(90, book.Latency(1, 0));
        Assert.False(book.Has(1, 1));
        Assert.Equal(230, book.LastReceivedAt);
        Assert.Equal((0L, 0L, 0L), (book.Duplicates, book.OutOfOrder, book.Unexpected));
    }

    [Fact]
    public void A_second_receipt_is_a_duplicate_and_not_received_again()
    {
        var book = new EventBook(clients: 1, maxEvents: 2);

        book.Record(0, 1, sentAt: 100, receivedAt: 110);
        book.Record(0, 1, sentAt: 100, receivedAt: 500);

        Assert.Equal(1, book.Received);
        Assert.Equal(1, book.Duplicates);
        Assert.Equal(10, book.Latency(0, 1));
    }

    [Fact]
    public void An_earlier_index_after_a_later_one_is_out_of_order()
    {
        var book = new EventBook(clients: 2, maxEvents: 3);

        book.Record(0, 2, sentAt: 100, receivedAt: 110);
        book.Record(0, 1, sentAt: 100, receivedAt: 120);
        book.Record(1, 1, sentAt: 100, receivedAt: 120);
        book.Record(1, 2, sentAt: 100, receivedAt: 130);

        Assert.Equal(1, book.OutOfOrder);
        Assert.Equal(4, book.Received);
    }

    [Theory]
    [InlineData(3, 100, 110)] // an index no scenario posted
    [InlineData(-1, 100, 110)]
    [InlineData(0, 0, 110)] // no stamp
    [InlineData(0, 200, 110)] // received before it was sent
    public void Strays_are_unexpected_and_not_received(int index, long sentAt, long receivedAt)
    {
        var book = new EventBook(clients: 1, maxEvents: 3);

        book.Record(0, index, sentAt, receivedAt);

        Assert.Equal(1, book.Unexpected);
        Assert.Equal(0, book.Received);
    }
}
