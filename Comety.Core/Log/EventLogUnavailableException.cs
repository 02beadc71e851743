namespace Comety;

/// <summary>
/// The store of an <see cref="IEventLog"/> cannot be reached (a database that is down, say): nothing
/// was appended. The dispatcher's users get 503 from <c>CometyController</c> and retry; a post fails
/// with this exception, whose inner exception tells the cause.
/// </summary>
public sealed class EventLogUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What could not be done.</param>
    /// <param name="innerException">The store's own failure.</param>
    public EventLogUnavailableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
