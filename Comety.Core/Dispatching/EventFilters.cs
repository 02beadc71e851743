namespace Comety;

/// <summary>Ready-made poll filters, after the original Comety's filter by target user.</summary>
public static class EventFilters
{
    /// <summary>
    /// Returns a filter that keeps only the events whose target list names the user: a poll with
    /// it passes over broadcasts and channel events and returns what was posted to the user.
    /// </summary>
    /// <remarks>
    /// The original's lenient form (events without targets too) is every event a user's inbox
    /// holds, since an inbox never receives another user's targeted events: a poll without a
    /// filter is that form.
    /// </remarks>
    /// <param name="userId">The polling user's id.</param>
    /// <returns>A filter for <see cref="CometyDispatcher.PollAsync"/>.</returns>
    public static Func<CometyEvent, bool> ForTargetUser(string userId)
    {
        ArgumentNullException.ThrowIfNull(userId);
        return e => e.IsTargeting(userId);
    }
}
