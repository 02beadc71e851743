using Comety;

namespace Comety.Chat.Chat;

/// <summary>One line of a room's history: a message, or someone joining or leaving.</summary>
/// <param name="Kind"><c>message</c>, <c>join</c> or <c>leave</c>, as the event type.</param>
public sealed record ChatLine(string Kind, string Name, string? Text, DateTimeOffset At, long Sequence)
{
    /// <summary>The sender of every chat event.</summary>
    public const string Sender = "Comety.Chat";

    /// <summary>The arguments of a line's event, whichever store keeps the history.</summary>
    public static Dictionary<string, object?> EventArgs(string kind, string name, string? text, DateTimeOffset at)
    {
        var args = new Dictionary<string, object?>
        {
            [CometyEvent.TypeArgument] = kind,
            ["name"] = name,
            ["at"] = at,
        };
        if (text is not null)
        {
            args["text"] = text;
        }

        return args;
    }
}
