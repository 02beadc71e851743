using System.Text.Json;

namespace Comety.Tests.Infrastructure;

/// <summary>An event as the test page's handler received it: <c>[sender, args, seq]</c>.</summary>
public sealed record BrowserEvent(string? Sender, string Type, long Sequence, JsonElement Args)
{
    public static BrowserEvent Parse(JsonElement wire) =>
        new(
            wire[0].ValueKind == JsonValueKind.Null ? null : wire[0].ToString(),
            wire[1].GetProperty(CometyEvent.TypeArgument).GetString()!,
            wire[2].GetInt64(),
            wire[1].Clone());

    public override string ToString() => $"{Type} #{Sequence}";
}
