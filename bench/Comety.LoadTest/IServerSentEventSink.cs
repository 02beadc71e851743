namespace Comety.LoadTest;

/// <summary>Receives what a <see cref="ServerSentEventParser"/> finds, as it finds it.</summary>
internal interface IServerSentEventSink
{
    /// <summary>
    /// A message is complete (its blank line arrived). <paramref name="type"/> is its <c>event</c>
    /// field (empty for the default, <c>message</c>), <paramref name="data"/> its <c>data</c> lines
    /// joined with line feeds, <paramref name="lastEventId"/> the stream's last event id at that point
    /// (the latest <c>id</c> field, in this message or an earlier one). Valid only during the call.
    /// </summary>
    void OnMessage(ReadOnlySpan<byte> type, ReadOnlySpan<byte> data, ReadOnlySpan<byte> lastEventId);

    /// <summary>A comment line (a keep-alive): <paramref name="text"/> is what follows the colon.</summary>
    void OnComment(ReadOnlySpan<byte> text);
}
