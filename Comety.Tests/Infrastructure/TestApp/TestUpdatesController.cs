using Microsoft.AspNetCore.Mvc;

namespace Comety.Tests.Infrastructure.TestApp;

/// <summary>The test application's updates URL: the user comes from a cookie, as a real application's would from its sign-in.</summary>
[Route("test/updates")]
public sealed class TestUpdatesController(TestBehaviour behaviour) : CometyController
{
    public const string UserCookie = "comety-test-user";

    protected override string? GetUserId() => behaviour.UserIdFailure is { } failure ? throw failure : Request.Cookies[UserCookie];

    protected override Dispatcher? GetDispatcher() => behaviour.NoDispatcher ? null : base.GetDispatcher();

    protected override ValueTask<bool> AuthorizeSubscriptionAsync(string userId, string channel, CancellationToken cancellationToken) =>
        behaviour.SubscriptionFailure is { } failure ? throw failure : ValueTask.FromResult(!behaviour.RefusedChannels.Contains(channel));
}
