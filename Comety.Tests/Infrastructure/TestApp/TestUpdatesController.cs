using Microsoft.AspNetCore.Mvc;

namespace Comety.Tests.Infrastructure.TestApp;

/// <summary>The test application's updates URL: the user comes from a cookie, as a real application's would from its sign-in.</summary>
[Route("test/updates")]
public sealed class TestUpdatesController(TestBehaviour behaviour) : CometyController
{
    public const string UserCookie = "comety-test-user";

    protected override string? GetUserId() => behaviour.UserIdFailure is { } failure ? throw failure : Request.Cookies[UserCookie];

    protected override CometyDispatcher? GetDispatcher() => behaviour.NoDispatcher ? null : base.GetDispatcher();

    // As an application would narrow and widen the configured patterns: the base hook checks them.
    protected override async ValueTask<bool> AuthorizeSubscriptionAsync(string userId, string channel, CancellationToken cancellationToken)
    {
        if (behaviour.SubscriptionFailure is { } failure)
        {
            throw failure;
        }

        return !behaviour.RefusedChannels.Contains(channel)
            && (behaviour.AllowedChannels.Contains(channel) || await base.AuthorizeSubscriptionAsync(userId, channel, cancellationToken));
    }

    protected override ValueTask<bool> AuthorizeUnsubscriptionAsync(string userId, string channel, CancellationToken cancellationToken) =>
        ValueTask.FromResult(!behaviour.KeptChannels.Contains(channel));
}
