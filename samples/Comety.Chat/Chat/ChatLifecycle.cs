namespace Comety.Chat.Chat;

/// <summary>
/// Binds the chat to Comety's lifecycle events, after django-socketio's chat example: a message a
/// page sends to a room's channel is said in the room, and a user that finishes (leaves, or stops
/// polling until its heartbeat times out) leaves its room.
/// </summary>
public sealed class ChatLifecycle(Dispatcher dispatcher, RoomStore rooms, ChatService chat) : IHostedService
{
    private readonly List<IDisposable> _bindings = [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _bindings.Add(dispatcher.On(LifecycleEvent.Message, async context =>
        {
            if (context.Channel is { } channel && rooms.FindByChannel(channel) is { } room
                && context.Data is { ValueKind: System.Text.Json.JsonValueKind.Object } data
                && data.TryGetProperty("text", out var text)
                && text.ValueKind == System.Text.Json.JsonValueKind.String)
            {
                await chat.SayAsync(room, context.UserId!, text.GetString()!);
            }
        }, "^room:"));

        _bindings.Add(dispatcher.On(LifecycleEvent.Finished, async context =>
        {
            foreach (var channel in context.Dispatcher.GetChannels(context.UserId!))
            {
                if (rooms.FindByChannel(channel) is { } room)
                {
                    await chat.LeftAsync(room, context.UserId!);
                }
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
