using System.Text.Json.Serialization;
using Comety.Serialization;

namespace Comety;

/// <summary>
/// What a poll found for a user: its unconfirmed events, the sequence number the answer
/// accounts for, or the news that the user fell too far behind and must resynchronise.
/// </summary>
/// <remarks>Serializes to the <c>{"lastId": …, "events": […]}</c> body of the Comety wire protocol.</remarks>
[JsonConverter(typeof(PollResultJsonConverter))]
public sealed class PollResult
{
    internal static readonly PollResult Resynchronize = new(null, 0, mustResynchronize: true);

    internal static readonly PollResult Refused = new(null, 0, tooManyPolls: true);

    internal PollResult(IReadOnlyList<CometyEvent>? events, long lastId, bool mustResynchronize = false, bool tooManyPolls = false)
    {
        Events = events;
        LastId = lastId;
        MustResynchronize = mustResynchronize;
        TooManyPolls = tooManyPolls;
    }

    /// <summary>
    /// Gets the user's unconfirmed events in ascending sequence order, or <see langword="null"/>
    /// when none arrived before the poll timed out.
    /// </summary>
    public IReadOnlyList<CometyEvent>? Events { get; }

    /// <summary>
    /// Gets the highest sequence number this answer accounts for: a client that consumed every
    /// event confirms it. Without events, it is the first sequence number still to come for the user, minus one.
    /// </summary>
    public long LastId { get; }

    /// <summary>
    /// Gets whether the user fell more than the configured backlog behind and lost its
    /// unconfirmed events: its page must reload (HTTP 409 on the wire).
    /// </summary>
    public bool MustResynchronize { get; }

    /// <summary>
    /// Gets whether the poll was refused because <see cref="DispatcherOptions.MaxPollsPerUser"/>
    /// polls of the user were waiting already: the page keeps its position and asks again later
    /// (HTTP 429 on the wire). Nothing is lost.
    /// </summary>
    public bool TooManyPolls { get; }
}
