using Comety.Internal;

namespace Comety;

public sealed partial class CometyDispatcher
{
    /// <summary>The longest channel name, in characters.</summary>
    public const int MaxChannelNameLength = ChannelName.MaxLength;

    /// <summary>Returns whether a string is a valid channel name: 1 to <see cref="MaxChannelNameLength"/> characters with no control characters.</summary>
    /// <param name="name">The name to check.</param>
    /// <returns><see langword="true"/> when every member that takes a channel accepts <paramref name="name"/>.</returns>
    public static bool IsValidChannelName(string? name) => ChannelName.IsValid(name);

    /// <summary>Subscribes a user to a channel: from now on it receives the events posted to it.</summary>
    /// <param name="userId">The user's id.</param>
    /// <param name="channel">The channel: 1 to 200 characters with no control characters.</param>
    /// <param name="cancellationToken">Passed to the <see cref="LifecycleEvent.Subscribed"/> handlers.</param>
    /// <returns><see langword="true"/> when the user was subscribed; <see langword="false"/> when it already was (no event is raised then).</returns>
    /// <exception cref="UnknownUserException">The user is not registered.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="channel"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The channel name is invalid.</exception>
    public async ValueTask<bool> SubscribeAsync(string userId, string channel, CancellationToken cancellationToken = default)
    {
        ChannelName.ThrowIfInvalid(channel, nameof(channel));
        var user = GetUser(userId);
        lock (user)
        {
            if (user.Leaving)
            {
                throw new UnknownUserException(userId);
            }

            if (_shared is null)
            {
                if (!user.Channels.Add(channel))
                {
                    return false;
                }

                AddToChannel(user, channel);
            }
            else if (user.Channels.Contains(channel))
            {
                return false;
            }
        }

        // On a shared log the subscription is a record, applied here as every server applies it.
        if (_shared is not null && !await AppendMembershipAsync(LogRecordKind.Subscribed, userId, channel, cancellationToken))
        {
            return false;
        }

        await RaiseAsync(LifecycleEvent.Subscribed, user, channel, cancellationToken: cancellationToken);
        return true;
    }

    /// <summary>Unsubscribes a user from a channel: it receives no more of the events posted to it.</summary>
    /// <param name="userId">The user's id.</param>
    /// <param name="channel">The channel.</param>
    /// <param name="cancellationToken">Passed to the <see cref="LifecycleEvent.Unsubscribed"/> handlers.</param>
    /// <returns><see langword="true"/> when the user was unsubscribed; <see langword="false"/> when it was not subscribed (no event is raised then).</returns>
    /// <exception cref="UnknownUserException">The user is not registered.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="channel"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The channel name is invalid.</exception>
    public async ValueTask<bool> UnsubscribeAsync(string userId, string channel, CancellationToken cancellationToken = default)
    {
        ChannelName.ThrowIfInvalid(channel, nameof(channel));
        var user = GetUser(userId);
        lock (user)
        {
            if (user.Leaving)
            {
                throw new UnknownUserException(userId);
            }

            if (_shared is null)
            {
                if (!user.Channels.Remove(channel))
                {
                    return false;
                }

                RemoveFromChannel(user, channel);
            }
            else if (!user.Channels.Contains(channel))
            {
                return false;
            }
        }

        if (_shared is not null && !await AppendMembershipAsync(LogRecordKind.Unsubscribed, userId, channel, cancellationToken))
        {
            return false;
        }

        await RaiseAsync(LifecycleEvent.Unsubscribed, user, channel, cancellationToken: cancellationToken);
        return true;
    }

    /// <summary>Returns the channels a user is subscribed to.</summary>
    /// <param name="userId">The user's id.</param>
    /// <returns>A snapshot of the user's channels.</returns>
    /// <exception cref="UnknownUserException">The user is not registered.</exception>
    public IReadOnlyCollection<string> GetChannels(string userId)
    {
        var user = GetUser(userId);
        lock (user)
        {
            return [.. user.Channels];
        }
    }

    /// <summary>Returns the users subscribed to a channel.</summary>
    /// <param name="channel">The channel.</param>
    /// <returns>A snapshot of the subscribers' ids; empty for a channel nobody is subscribed to.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="channel"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The channel name is invalid.</exception>
    public IReadOnlyCollection<string> GetSubscribers(string channel)
    {
        ChannelName.ThrowIfInvalid(channel, nameof(channel));
        if (!_channels.TryGetValue(channel, out var state))
        {
            return [];
        }

        lock (state)
        {
            return [.. state.Subscribers.Select(static user => user.Id)];
        }
    }

    // Under the user's lock, so that the user's and the channel's view always agree. Delivery never
    // holds a channel's lock while it takes a user's.
    private void AddToChannel(UserState user, string channel)
    {
        while (true)
        {
            var state = _channels.GetOrAdd(channel, static _ => new ChannelState());
            lock (state)
            {
                if (!state.Removed)
                {
                    state.Subscribers.Add(user);
                    return;
                }
            }
        }
    }

    // Call under the user's lock.
    private void RemoveFromChannel(UserState user, string channel)
    {
        if (!_channels.TryGetValue(channel, out var state))
        {
            return;
        }

        lock (state)
        {
            state.Subscribers.Remove(user);
            if (state.Subscribers.Count == 0)
            {
                state.Removed = true;
                _channels.TryRemove(KeyValuePair.Create(channel, state));
            }
        }
    }
}
