using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Comety.Tests.Infrastructure;

/// <summary>Keeps every log entry of a test host, so tests can check what was logged.</summary>
public sealed class ListLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, string EventName, string Message, Exception? Exception)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add((string, LogLevel, string, string, Exception?) entry) => Entries.Enqueue(entry);

    private sealed class Logger(ListLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add((category, logLevel, eventId.Name ?? string.Empty, formatter(state, exception), exception));
    }
}
