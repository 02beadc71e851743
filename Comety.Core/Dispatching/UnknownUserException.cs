namespace Comety;

/// <summary>The exception thrown when a user id is not (or no longer) registered with a dispatcher.</summary>
public sealed class UnknownUserException : KeyNotFoundException
{
    /// <summary>Creates the exception for the given user id.</summary>
    /// <param name="userId">The id that is not registered.</param>
    public UnknownUserException(string userId)
        : base($"No user with id '{userId}' is registered with this dispatcher.")
    {
        UserId = userId;
    }

    /// <summary>Gets the id that is not registered.</summary>
    public string UserId { get; }
}
