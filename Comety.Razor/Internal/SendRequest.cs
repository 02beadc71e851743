using System.Text.Json;

namespace Comety.Internal;

/// <summary>What a page sent: a subscription change or a message, read from its JSON body.</summary>
internal sealed record SendRequest(string Type, string? Channel, JsonElement Data)
{
    public const string Subscribe = "subscribe";
    public const string Unsubscribe = "unsubscribe";
    public const string Message = "message";

    /// <summary>Reads a body; returns the reason it is invalid, or null.</summary>
    public static string? TryParse(ReadOnlyMemory<byte> body, out SendRequest? request)
    {
        request = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            return $"The body is not valid JSON: {e.Message}";
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return "The body must be a JSON object with a 'type'.";
            }

            if (!root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                return "The body needs a string 'type': subscribe, unsubscribe or message.";
            }

            var type = typeElement.GetString()!;
            string? channel = null;
            if (root.TryGetProperty("channel", out var channelElement) && channelElement.ValueKind != JsonValueKind.Null)
            {
                if (channelElement.ValueKind != JsonValueKind.String || !CometyDispatcher.IsValidChannelName(channel = channelElement.GetString()))
                {
                    return $"The 'channel' must be a string of 1 to {CometyDispatcher.MaxChannelNameLength} characters with no control characters.";
                }
            }

            switch (type)
            {
                case Subscribe or Unsubscribe:
                    if (channel is null)
                    {
                        return $"A '{type}' needs a 'channel'.";
                    }

                    request = new SendRequest(type, channel, default);
                    return null;
                case Message:
                    if (!root.TryGetProperty("data", out var data))
                    {
                        return "A 'message' needs 'data'.";
                    }

                    request = new SendRequest(type, channel, data.Clone());
                    return null;
                default:
                    return $"Unknown 'type' '{(type.Length > 40 ? type[..40] + "…" : type)}': expected subscribe, unsubscribe or message.";
            }
        }
    }
}
