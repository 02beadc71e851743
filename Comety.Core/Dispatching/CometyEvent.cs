using System.Text.Json.Serialization;
using Comety.Internal;
using Comety.Serialization;

namespace Comety;

/// <summary>
/// An event in a dispatcher's log: who sent it, its named arguments (the <c>event</c> argument
/// names its type) and, once posted, its sequence number.
/// </summary>
/// <remarks>
/// An event serializes to the <c>[sender, args, seq]</c> array of the Comety wire protocol.
/// Its arguments are copied when it is created, so it never changes afterwards.
/// </remarks>
[JsonConverter(typeof(CometyEventJsonConverter))]
public sealed class CometyEvent
{
    /// <summary>The name of the argument that holds an event's type.</summary>
    public const string TypeArgument = "event";

    /// <summary>The name of the argument that holds the channel an event was posted to.</summary>
    internal const string ChannelArgument = "channel";

    private byte[]? _utf8Json;

    // Recipients whose inboxes still hold this event; the dispatcher discards it at zero.
    internal int PendingRecipients;

    /// <summary>Creates an event that has not been posted yet.</summary>
    /// <param name="sender">What originated the event: a string, a number, an array or object of those, or <see langword="null"/>; any other object is sent as its string form.</param>
    /// <param name="args">The event's named arguments; <c>event</c> must be a non-empty string that names its type.</param>
    /// <param name="channel">The channel whose subscribers receive the event, or <see langword="null"/> when it is not for a channel.</param>
    /// <param name="targetUserIds">The only users that receive the event, or <see langword="null"/> when it is not for particular users.</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="args"/> has no <c>event</c> string; <paramref name="channel"/> is not a valid
    /// channel name; or <paramref name="args"/> has a <c>channel</c> argument other than
    /// <paramref name="channel"/> (without a channel, such an event would reach every user while it
    /// claims to be for one channel).
    /// </exception>
    public CometyEvent(
        object? sender,
        IReadOnlyDictionary<string, object?> args,
        string? channel = null,
        IReadOnlyCollection<string>? targetUserIds = null)
        : this(sender, Freeze(args, channel), channel, targetUserIds is null ? null : [.. targetUserIds], 0)
    {
    }

    private CometyEvent(object? sender, Dictionary<string, object?> args, string? channel, string[]? targets, long sequence)
    {
        Sender = sender;
        Args = args;
        Channel = channel;
        TargetUserIds = targets;
        Sequence = sequence;
    }

    /// <summary>Gets what originated the event.</summary>
    public object? Sender { get; }

    /// <summary>Gets the event's named arguments, <c>event</c> and, for channel events, <c>channel</c> included.</summary>
    public IReadOnlyDictionary<string, object?> Args { get; }

    /// <summary>Gets the event's type: its <c>event</c> argument.</summary>
    public string Type => (string)Args[TypeArgument]!;

    /// <summary>Gets the channel the event was posted to, if any.</summary>
    public string? Channel { get; }

    /// <summary>Gets the users the event is for, or <see langword="null"/> when it is not for particular users.</summary>
    public IReadOnlyList<string>? TargetUserIds { get; }

    /// <summary>Gets the event's sequence number in its log, or 0 while it has not been posted.</summary>
    public long Sequence { get; private set; }

    /// <summary>Returns a copy of this event that carries the given sequence number.</summary>
    /// <param name="sequence">The sequence number a log assigned to the event; positive.</param>
    /// <returns>The numbered event.</returns>
    /// <remarks>An <see cref="IEventLog"/> implementation uses this to number the events it appends or reads back.</remarks>
    public CometyEvent WithSequence(long sequence)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sequence);
        return new CometyEvent(Sender, (Dictionary<string, object?>)Args, Channel, (string[]?)TargetUserIds, sequence);
    }

    // Whether the event's target list names the user: false for an event without one.
    internal bool IsTargeting(string userId)
    {
        if (TargetUserIds is null)
        {
            return false;
        }

        foreach (var target in TargetUserIds)
        {
            if (string.Equals(target, userId, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Type} #{Sequence}";

    // Sequence numbers are given once, by the log that appends the event; an in-memory log
    // numbers the instance it was handed instead of copying it.
    internal void AssignSequence(long sequence)
    {
        if (Sequence != 0)
        {
            throw new InvalidOperationException($"The event was already posted as #{Sequence}.");
        }

        Sequence = sequence;
    }

    // Serialized once and shared by every response that carries the event.
    internal byte[] GetUtf8Json()
    {
        var json = Volatile.Read(ref _utf8Json);
        if (json is null)
        {
            json = CometyEventJsonConverter.SerializeToUtf8(this);
            Volatile.Write(ref _utf8Json, json);
        }

        return json;
    }

    private static Dictionary<string, object?> Freeze(IReadOnlyDictionary<string, object?> args, string? channel)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (!args.TryGetValue(TypeArgument, out var type) || type is not string { Length: > 0 })
        {
            throw new ArgumentException($"An event needs a non-empty string argument '{TypeArgument}' that names its type.", nameof(args));
        }

        var copy = new Dictionary<string, object?>(args.Count + 1, StringComparer.Ordinal);
        foreach (var (name, value) in args)
        {
            copy[name] = value;
        }

        if (args.TryGetValue(ChannelArgument, out var named) && !Equals(named, channel))
        {
            throw new ArgumentException($"The '{ChannelArgument}' argument is set from the channel an event is posted to; pass the channel as the channel parameter (PostToChannelAsync) instead.", nameof(args));
        }

        if (channel is not null)
        {
            ChannelName.ThrowIfInvalid(channel, nameof(channel));
            copy[ChannelArgument] = channel;
        }

        return copy;
    }
}
