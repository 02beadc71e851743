using System.Text.Json;

namespace Comety.Tests.Http.Infrastructure;

/// <summary>One <c>[sender, args, seq]</c> element of a poll's <c>events</c>, as it came over the wire.</summary>
internal sealed record WireEvent(JsonElement Sender, JsonElement Args, long Seq)
{
    public string Type => Args.GetProperty("event").GetString()!;

    public string? Channel => Args.TryGetProperty("channel", out var channel) ? channel.GetString() : null;
}
