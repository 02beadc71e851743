namespace Comety;

/// <summary>What a shared log holds below its records: its identity and the users as of <see cref="Sequence"/>.</summary>
/// <param name="Epoch">
/// The store's identity, made when its schema was created: a store that was wiped, or restored from an
/// older backup, has another, and the pages of the old one must resynchronise.
/// </param>
/// <param name="Sequence">The last sequence number whose membership the snapshot includes; the records after it are in the log.</param>
/// <param name="Users">The users registered as of <see cref="Sequence"/>.</param>
public sealed record SharedLogSnapshot(string Epoch, long Sequence, IReadOnlyList<SharedLogUser> Users);

/// <summary>A registered user in a <see cref="SharedLogSnapshot"/>.</summary>
/// <param name="UserId">The user's id.</param>
/// <param name="RegisteredAt">The sequence number of its registration: its pages never see that one or earlier ones.</param>
/// <param name="Channels">The channels it is subscribed to.</param>
public sealed record SharedLogUser(string UserId, long RegisteredAt, IReadOnlyList<string> Channels);
