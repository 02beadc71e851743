namespace Comety.Internal;

/// <summary>
/// Compares users by identity and hashes them by id. <see cref="object.GetHashCode"/> would store
/// an identity hash in the object's header, and a header holding a hash makes every
/// <c>lock (user)</c> go through a sync block instead of the runtime's thin lock.
/// </summary>
internal sealed class UserStateComparer : IEqualityComparer<UserState>
{
    public static readonly UserStateComparer Instance = new();

    private UserStateComparer()
    {
    }

    public bool Equals(UserState? x, UserState? y) => ReferenceEquals(x, y);

    public int GetHashCode(UserState obj) => obj.HashCode;
}
