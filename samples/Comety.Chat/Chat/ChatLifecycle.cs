namespace Comety.Chat.Chat;

/// <summary>
/// Binds the chat to Comety's lifecycle events, after django-socketio's chat example: a message a
/// page sends to a room's channel is said in the room, and a user that leaves a room's channel
/// leaves the room, whether it is on its way out (the leave button, or a heartbeat timeout after
/// its page stopped polling) or its page unsubscribed.
/// </summary>
public sealed class ChatLifecycle(CometyDispatcher dispatcher, IChat chat) : IHostedService
{
    private readonly List<IDisposable> _bindings = [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _bindings.Add(dispatcher.On(LifecycleEvent.Message, async context =>
        {
            if (context.Channel is { } channel && RoomInfo.SlugOf(channel) is { } slug
                && await chat.FindRoomAsync(slug, CancellationToken.None) is { } room
                && context.Data is { ValueKind: System.Text.Json.JsonValueKind.Object } data
                && data.TryGetProperty("text", out var text)
                && text.ValueKind == System.Text.Json.JsonValueKind.String)
            {
                await chat.SayAsync(room, context.UserId!, text.GetString()!);
            }
        }, "^room:"));

        // Unsubscribed, not Finished: a user on its way out is unsubscribed from each of its
        // channels first, and a page may unsubscribe by itself; a member that no longer hears the
        // room must not stay listed in it, holding its name.
        _bindings.Add(dispatcher.On(LifecycleEvent.Unsubscribed, async context =>
        {
            if (context.Channel is { } channel && RoomInfo.SlugOf(channel) is { } slug
                && await chat.FindRoomAsync(slug, CancellationToken.None) is { } room)
            {
                await chat.LeftAsync(room, context.UserId!);
            }
        }, "^room:"));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var binding in _bindings)
        {
            binding.Dispose();
        }

        return Task.CompletedTask;
    }
}
