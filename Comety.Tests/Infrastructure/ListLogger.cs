using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Comety.Tests.Infrastructure;

/// <summary>A logger that keeps what it is told, for tests that check what was logged.</summary>
public sealed class ListLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(LogLevel Level, string EventName, string Message, Exception? Exception)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, eventId.Name ?? string.Empty, formatter(state, exception), exception));
}
