using System.Text.Json;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Core;

public sealed class JsonTests
{
    [Fact]
    public void An_event_serializes_to_sender_args_and_sequence()
    {
        var e = new CometyEvent("Chat", Args("message", ("text", "hi <b>"), ("count", 2)), "room-1").WithSequence(44);

        var json = JsonSerializer.Serialize(e);

        Assert.Equal("""["Chat",{"event":"message","text":"hi \u003Cb\u003E","count":2,"channel":"room-1"},44]""", json);
    }

    public static TheoryData<object?, string> Senders => new()
    {
        { null, "null" },
        { "text", "\"text\"" },
        { 7, "7" },
        { 7L, "7" },
        { 2.5, "2.5" },
        { 1.5m, "1.5" },
        { true, "true" },
        { new object[] { "a", 1, null! }, """["a",1,null]""" },
        { new Dictionary<string, object?> { ["id"] = 3, ["tags"] = new[] { "x" } }, """{"id":3,"tags":["x"]}""" },
        { new Uri("https://example.org/a"), "\"https://example.org/a\"" },
        { double.NaN, "\"NaN\"" },
    };

    [Theory]
    [MemberData(nameof(Senders))]
    public void Senders_serialize_as_json_values_or_by_their_string_form(object? sender, string expected)
    {
        var json = JsonSerializer.Serialize(new CometyEvent(sender, Args("e")).WithSequence(1));

        Assert.Equal($$"""[{{expected}},{"event":"e"},1]""", json);
    }

    [Fact]
    public void An_object_sender_is_never_written_by_its_memory_address_or_its_properties()
    {
        var json = JsonSerializer.Serialize(new CometyEvent(new Opaque(), Args("e")).WithSequence(1));

        Assert.Equal("""["opaque sender",{"event":"e"},1]""", json);
    }

    [Fact]
    public void A_poll_result_serializes_to_lastId_and_events()
    {
        var events = new[] { new CometyEvent("s", Args("a")).WithSequence(3), new CometyEvent(null, Args("b")).WithSequence(5) };

        Assert.Equal(
            """{"lastId":6,"events":[["s",{"event":"a"},3],[null,{"event":"b"},5]]}""",
            JsonSerializer.Serialize(new PollResult(events, 6)));
        Assert.Equal("""{"lastId":6,"events":null}""", JsonSerializer.Serialize(new PollResult(null, 6)));
    }

    [Fact]
    public void An_event_is_serialized_once_however_many_answers_carry_it()
    {
        // The sender is written by its string form: each serialization of the event asks for it once.
        var sender = new CountedSender();
        var e = new CometyEvent(sender, Args("a")).WithSequence(1);

        var answers = new[] { new PollResult([e], 1), new PollResult([e], 2) }.Select(r => JsonSerializer.Serialize(r)).ToArray();
        var alone = JsonSerializer.Serialize(e);

        Assert.Equal(1, sender.Written);
        Assert.Equal(
            ["""{"lastId":1,"events":[["counted",{"event":"a"},1]]}""", """{"lastId":2,"events":[["counted",{"event":"a"},1]]}"""],
            answers);
        Assert.Equal("""["counted",{"event":"a"},1]""", alone);
    }

    [Fact]
    public void Argument_values_are_serialized_as_json()
    {
        var e = new CometyEvent("s", Args("a", ("user", new { Name = "Ann", Age = 3 }), ("none", null))).WithSequence(2);

        Assert.Equal("""["s",{"event":"a","user":{"name":"Ann","age":3},"none":null},2]""", JsonSerializer.Serialize(e));
    }

    private sealed class CountedSender
    {
        public int Written { get; private set; }

        public override string ToString()
        {
            Written++;
            return "counted";
        }
    }

    private sealed class Opaque
    {
        public int Secret { get; } = 42;

        public override string ToString() => "opaque sender";
    }
}
