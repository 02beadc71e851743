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

    private CometyEvent(object? sender, Dictionary<string, object?> args, string? channel, string[]? targets, long sequence, LogRecordKind kind = LogRecordKind.Event)
    {
        Sender = sender;
        Args = args;
        Channel = channel;
        TargetUserIds = targets;
        Sequence = sequence;
        Kind = kind;
    }

    /// <summary>
    /// Gets what the record is: <see cref="LogRecordKind.Event"/> for every event an application
    /// posts; a shared log (<see cref="ISharedEventLog"/>) also holds the dispatcher's membership records,
    /// which no user receives.
    /// </summary>
    public LogRecordKind Kind { get; }

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
        return new CometyEvent(Sender, (Dictionary<string, object?>)Args, Channel, (string[]?)TargetUserIds, sequence, Kind);
    }

    /// <summary>
    /// Returns the record a log stores for this event: UTF-8 JSON with its kind, sender, arguments,
    /// channel and target users, everything but its sequence number, which the log keeps beside it.
    /// </summary>
    /// <returns>The record's bytes; <see cref="FromLogRecord"/> reads them back.</returns>
    /// <remarks>
    /// A durable <see cref="IEventLog"/> stores these bytes as they are (a <c>json</c> column keeps
    /// them; <c>jsonb</c> would reorder the arguments): an event read back is written to the wire as
    /// the same bytes by every server.
    /// </remarks>
    public byte[] ToLogRecord() => LogRecordJson.Write(this);

    /// <summary>Reads an event back from the bytes of <see cref="ToLogRecord"/> and numbers it.</summary>
    /// <param name="record">The record's bytes.</param>
    /// <param name="sequence">The sequence number the log gave it; positive.</param>
    /// <returns>The event: its arguments are strings where they were strings, <see cref="System.Text.Json.JsonElement"/>s otherwise.</returns>
    /// <exception cref="FormatException">The bytes are not a record of <see cref="ToLogRecord"/>.</exception>
    public static CometyEvent FromLogRecord(ReadOnlySpan<byte> record, long sequence)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sequence);
        var (kind, sender, args, channel, targets) = LogRecordJson.Read(record);
        if (!args.TryGetValue(TypeArgument, out var type) || type is not string { Length: > 0 })
        {
            throw new FormatException($"A log record needs a string argument '{TypeArgument}'.");
        }

        return new CometyEvent(sender, args, channel, targets, sequence, kind);
    }

    // A membership record of a shared log: delivered to nobody (no target), applied by every dispatcher.
    internal static CometyEvent Membership(LogRecordKind kind, string userId, string? channel, string origin, IReadOnlyCollection<string>? channels = null)
    {
        var args = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            [TypeArgument] = MembershipTypes[(int)kind],
            [UserIdArgument] = userId,
            [OriginArgument] = origin,
        };
        if (channel is not null)
        {
            args[ChannelArgument] = channel;
        }

        if (channels is not null)
        {
            args[ChannelsArgument] = channels.ToArray();
        }

        return new CometyEvent(CometyDispatcher.SenderName, args, channel, [], 0, kind);
    }

    internal const string UserIdArgument = "userId";
    internal const string OriginArgument = "origin";
    internal const string ChannelsArgument = "channels";

    private static readonly string[] MembershipTypes = ["", "comety-user-registered", "comety-user-unregistered", "comety-subscribed", "comety-unsubscribed"];

    // The membership record's user, or null for an event.
    internal string? MembershipUserId => Kind == LogRecordKind.Event ? null : Args.TryGetValue(UserIdArgument, out var id) ? id as string : null;

    internal string? MembershipOrigin => Args.TryGetValue(OriginArgument, out var origin) ? origin as string : null;

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
