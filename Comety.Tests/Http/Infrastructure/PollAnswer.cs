using System.Text.Json;

namespace Comety.Tests.Http.Infrastructure;

/// <summary>A 200 answer to a poll, read strictly: exactly <c>lastId</c> and <c>events</c>, each event a three-element array.</summary>
internal sealed record PollAnswer(long LastId, IReadOnlyList<WireEvent>? Events)
{
    public IEnumerable<long> Sequences => Events?.Select(e => e.Seq) ?? [];

    public IEnumerable<string> Types => Events?.Select(e => e.Type) ?? [];

    public static PollAnswer Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal(["lastId", "events"], root.EnumerateObject().Select(p => p.Name));
        Assert.True(root.GetProperty("lastId").TryGetInt64(out var lastId), $"lastId is not an integer: {json}");

        var events = root.GetProperty("events");
        if (events.ValueKind == JsonValueKind.Null)
        {
            return new PollAnswer(lastId, null);
        }

        Assert.Equal(JsonValueKind.Array, events.ValueKind);
        var list = new List<WireEvent>();
        foreach (var item in events.EnumerateArray())
        {
            Assert.Equal(JsonValueKind.Array, item.ValueKind);
            Assert.Equal(3, item.GetArrayLength());
            var args = item[1];
            Assert.Equal(JsonValueKind.Object, args.ValueKind);
            Assert.Equal(JsonValueKind.String, args.GetProperty("event").ValueKind);
            Assert.True(item[2].TryGetInt64(out var seq), $"seq is not an integer: {item}");
            list.Add(new WireEvent(item[0].Clone(), args.Clone(), seq));
        }

        Assert.NotEmpty(list);
        return new PollAnswer(lastId, list);
    }
}
