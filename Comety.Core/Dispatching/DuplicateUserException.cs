namespace Comety;

/// <summary>The exception thrown when a user id is registered with a dispatcher a second time.</summary>
public sealed class DuplicateUserException : InvalidOperationException
{
    /// <summary>Creates the exception for the given user id.</summary>
    /// <param name="userId">The id that is already registered.</param>
    public DuplicateUserException(string userId)
        : base($"A user with id '{userId}' is already registered with this dispatcher.")
    {
        UserId = userId;
    }

    /// <summary>Gets the id that is already registered.</summary>
    public string UserId { get; }
}
