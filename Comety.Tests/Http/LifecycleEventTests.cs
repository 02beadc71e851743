using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;

namespace Comety.Tests.Http;

/// <summary>The events the dispatcher posts itself, as polls receive them (PROTOCOL.md, "Lifecycle events").</summary>
public sealed class LifecycleEventTests
{
    [Fact]
    public async Task Registering_a_user_with_notification_sends_register_user_to_every_user_the_new_one_included()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var ann = host.CreateClient("ann");
        using var bob = host.CreateClient("bob");

        await host.Dispatcher.RegisterUserAsync("bob", notify: true).Bounded();
        var annSees = await ann.PollOkAsync("timeout=10");
        var bobSees = await bob.PollOkAsync("timeout=10");

        foreach (var answer in new[] { annSees, bobSees })
        {
            var only = Assert.Single(answer.Events!);
            Assert.Equal(CometyDispatcher.SenderName, only.Sender.GetString());
            Assert.Equal("register-user", only.Type);
            Assert.Equal("bob", only.Args.GetProperty("userId").GetString());
        }
    }

    [Fact]
    public async Task Registering_a_user_without_notification_sends_nothing()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var ann = host.CreateClient("ann");

        await host.Dispatcher.RegisterUserAsync("bob").Bounded();
        var answer = await ann.PollOkAsync("timeout=0");

        Assert.Null(answer.Events);
    }

    [Fact]
    public async Task Unregistering_a_user_with_notification_sends_unregister_user_to_the_others()
    {
        await using var host = await TestHost.StartAsync().Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        await host.Dispatcher.RegisterUserAsync("bob").Bounded();
        using var ann = host.CreateClient("ann");

        await host.Dispatcher.UnregisterUserAsync("bob", notify: true).Bounded();
        var answer = await ann.PollOkAsync("timeout=10");

        var only = Assert.Single(answer.Events!);
        Assert.Equal(CometyDispatcher.SenderName, only.Sender.GetString());
        Assert.Equal("unregister-user", only.Type);
        Assert.Equal("bob", only.Args.GetProperty("userId").GetString());
    }
}
