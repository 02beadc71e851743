namespace Comety.Tests.Infrastructure;

/// <summary>The README's <c>Message</c> handler bound to <c>^room:</c>, word for word but for the dispatcher it is bound on.</summary>
public static class ReadmeMessageHandler
{
    public static IDisposable Bind(CometyDispatcher dispatcher) =>
        dispatcher.On(LifecycleEvent.Message, async context =>
        {
            // The rooms this message is for, every one of them a room the sender is in: the one it
            // was sent to, or, sent without a channel, each of the sender's rooms.
            foreach (var room in context.MatchedChannels)
            {
                await context.Dispatcher.PostToChannelAsync(room, "chat", new Dictionary<string, object?>
                {
                    ["event"] = "message",
                    ["from"] = context.UserId,
                    ["text"] = context.Data?.GetProperty("text").GetString(),
                }, context.CancellationToken);
            }
        }, channelPattern: "^room:");
}
