namespace Comety;

/// <summary>Ready-made poll filters, after the original Comety's filter by target user.</summary>
public static class EventFilters
{
    /// <summary>
    /// Returns a filter that keeps the events meant for a user: with <paramref name="strict"/>,
    /// only events whose target list names it; otherwise also events that have no target list.
    /// </summary>
    /// <param name="userId">The polling user's id.</param>
    /// <param name="strict">Whether events without a target list are passed over.</param>
    /// <returns>A filter for <see cref="Dispatcher.PollAsync"/>.</returns>
    public static Func<CometyEvent, bool> ForTargetUser(string userId, bool strict)
    {
        ArgumentNullException.ThrowIfNull(userId);
        return strict ? e => e.IsTargeting(userId) : e => e.IsFor(userId);
    }
}
