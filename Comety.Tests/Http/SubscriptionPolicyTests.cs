using System.Net;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Http;

/// <summary>
/// Which channels a page may join and leave by itself: <c>Comety:ClientChannels</c> (none by
/// default), the controller's hooks, and <c>Comety:MaxClientChannelsPerUser</c> (PROTOCOL.md, "Send").
/// </summary>
public sealed class SubscriptionPolicyTests
{
    private static string Subscribe(string channel) => $$"""{"type": "subscribe", "channel": "{{channel}}"}""";

    private static string Unsubscribe(string channel) => $$"""{"type": "unsubscribe", "channel": "{{channel}}"}""";

    [Fact]
    public async Task A_subscription_to_a_channel_the_application_did_not_open_is_403_and_the_page_hears_nothing_posted_there()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Antiforgery = false }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        using var response = await client.SendJsonAsync(Subscribe("admin")).Bounded();
        var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        await host.Dispatcher.PostToChannelAsync("admin", "server", Args("secret")).Bounded();
        // Posted after the channel's event: had that reached ann, it would come first.
        var marker = await host.Dispatcher.PostToUserAsync("ann", "server", Args("marker")).Bounded();
        var answer = await client.PollOkAsync("timeout=10");

        Assert.Equal("Subscription refused", problem.Title());
        Assert.Contains("'admin'", problem.Detail(), StringComparison.Ordinal);
        Assert.Equal([marker!.Value], answer.Sequences);
        Assert.Empty(host.Dispatcher.GetChannels("ann"));
        Assert.Empty(host.Dispatcher.GetSubscribers("admin"));
    }

    [Fact]
    public async Task A_refused_subscription_is_logged_at_Debug_not_as_a_warning()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Antiforgery = false }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        using var response = await client.SendJsonAsync(Subscribe("admin")).Bounded();
        await response.AssertProblemAsync(HttpStatusCode.Forbidden);

        var refusal = Assert.Single(host.Logs.Entries, static e => e.EventName == "ChannelRequestRefused");
        Assert.Equal(LogLevel.Debug, refusal.Level);
        Assert.Contains("'admin'", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("'ann'", refusal.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(host.Logs.Entries, static e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task By_default_a_page_may_join_no_channel_at_all()
    {
        var options = new TestHostOptions { Antiforgery = false };
        options.ClientChannels.Clear();
        await using var host = await TestHost.StartAsync(options).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        using var room = await client.SendJsonAsync(Subscribe("room-1")).Bounded();
        using var lobby = await client.SendJsonAsync(Subscribe("lobby")).Bounded();

        await room.AssertProblemAsync(HttpStatusCode.Forbidden);
        await lobby.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Empty(host.Dispatcher.GetChannels("ann"));
        Assert.Empty(host.Services.GetRequiredService<IOptions<CometyOptions>>().Value.ClientChannels);
    }

    [Fact]
    public async Task A_channel_a_pattern_opens_can_be_joined_and_its_events_arrive()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Antiforgery = false }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        await client.SendNoContentAsync(Subscribe("room-42"));
        await client.SendNoContentAsync(Subscribe("lobby"));
        var inRoom = await host.Dispatcher.PostToChannelAsync("room-42", "Chat", Args("message")).Bounded();
        var inLobby = await host.Dispatcher.PostToChannelAsync("lobby", "Chat", Args("message")).Bounded();
        var answer = await client.PollOkAsync("timeout=10");

        Assert.Equal([inRoom!.Value, inLobby!.Value], answer.Sequences);
        Assert.Equal(["room-42", "lobby"], answer.Events!.Select(e => e.Channel));
    }

    [Theory]
    [InlineData("room-1", HttpStatusCode.NoContent)]
    [InlineData("room-", HttpStatusCode.NoContent)]
    [InlineData("room-with spaces ☃", HttpStatusCode.NoContent)]
    [InlineData("lobby", HttpStatusCode.NoContent)]
    [InlineData("lobby-2", HttpStatusCode.Forbidden)]
    [InlineData("Lobby", HttpStatusCode.Forbidden)]
    [InlineData("Room-1", HttpStatusCode.Forbidden)]
    [InlineData("room", HttpStatusCode.Forbidden)]
    [InlineData("my-room-1", HttpStatusCode.Forbidden)]
    [InlineData("room-*", HttpStatusCode.NoContent)]
    [InlineData("*", HttpStatusCode.Forbidden)]
    public async Task Patterns_are_exact_names_or_prefixes_with_a_trailing_star_compared_ordinally(string channel, HttpStatusCode expected)
    {
        // The test application's patterns: "room-*" and "lobby".
        await using var host = await TestHost.StartAsync(new TestHostOptions { Antiforgery = false }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        using var response = await client.SendJsonAsync(Subscribe(channel)).Bounded();

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(expected == HttpStatusCode.NoContent, host.Dispatcher.GetChannels("ann").Contains(channel));
    }

    [Fact]
    public async Task Patterns_are_read_from_the_Comety_ClientChannels_configuration_list()
    {
        var options = new TestHostOptions { Antiforgery = false };
        options.ClientChannels.Clear();
        options.Configuration["Comety:ClientChannels:0"] = "news";
        options.Configuration["Comety:ClientChannels:1"] = "team:*";
        await using var host = await TestHost.StartAsync(options).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        await client.SendNoContentAsync(Subscribe("news"));
        await client.SendNoContentAsync(Subscribe("team:blue"));
        using var room = await client.SendJsonAsync(Subscribe("room-1")).Bounded();

        await room.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(["news", "team:blue"], host.Dispatcher.GetChannels("ann").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_hook_can_refuse_a_channel_the_patterns_open_and_open_one_they_do_not()
    {
        var options = new TestHostOptions { Antiforgery = false };
        options.Behaviour.RefusedChannels.Add("room-secret");
        options.Behaviour.AllowedChannels.Add("staff");
        await using var host = await TestHost.StartAsync(options).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        using var refused = await client.SendJsonAsync(Subscribe("room-secret")).Bounded();
        var problem = await refused.AssertProblemAsync(HttpStatusCode.Forbidden);
        await client.SendNoContentAsync(Subscribe("staff"));
        await client.SendNoContentAsync(Subscribe("room-1"));

        Assert.Equal("Subscription refused", problem.Title());
        Assert.Equal(["room-1", "staff"], host.Dispatcher.GetChannels("ann").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_unsubscription_the_application_refuses_is_403_and_the_user_keeps_hearing_the_channel()
    {
        var options = new TestHostOptions { Antiforgery = false };
        options.Behaviour.KeptChannels.Add("announcements");
        await using var host = await TestHost.StartAsync(options).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        await host.Dispatcher.SubscribeAsync("ann", "announcements").Bounded();
        using var client = host.CreateClient("ann");

        using var refused = await client.SendJsonAsync(Unsubscribe("announcements")).Bounded();
        var problem = await refused.AssertProblemAsync(HttpStatusCode.Forbidden);
        var seq = await host.Dispatcher.PostToChannelAsync("announcements", "server", Args("news")).Bounded();
        var answer = await client.PollOkAsync("timeout=10");

        Assert.Equal("Unsubscription refused", problem.Title());
        Assert.Equal(["announcements"], host.Dispatcher.GetChannels("ann"));
        Assert.Equal([seq!.Value], answer.Sequences);
        Assert.Equal(LogLevel.Debug, Assert.Single(host.Logs.Entries, static e => e.EventName == "ChannelRequestRefused").Level);
    }

    [Fact]
    public async Task By_default_a_page_may_leave_any_channel_even_one_it_could_not_join()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Antiforgery = false }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        await host.Dispatcher.SubscribeAsync("ann", "admin").Bounded();
        using var client = host.CreateClient("ann");

        await client.SendNoContentAsync(Unsubscribe("admin"));

        Assert.Empty(host.Dispatcher.GetChannels("ann"));
    }

    [Fact]
    public async Task The_application_subscribes_users_to_any_channel_whatever_the_patterns_and_the_limit()
    {
        var options = new TestHostOptions { Antiforgery = false, Configure = o => o.MaxClientChannelsPerUser = 1 };
        options.ClientChannels.Clear();
        await using var host = await TestHost.StartAsync(options).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        Assert.True(await host.Dispatcher.SubscribeAsync("ann", "admin").Bounded());
        Assert.True(await host.Dispatcher.SubscribeAsync("ann", "staff").Bounded());
        var seq = await host.Dispatcher.PostToChannelAsync("admin", "server", Args("notice")).Bounded();
        var answer = await client.PollOkAsync("timeout=10");

        Assert.Equal([seq!.Value], answer.Sequences);
        Assert.Equal(2, host.Dispatcher.GetChannels("ann").Count);
    }

    [Fact]
    public async Task A_subscription_beyond_MaxClientChannelsPerUser_is_403_until_the_user_leaves_a_channel()
    {
        var options = new TestHostOptions { Antiforgery = false, Configure = o => o.MaxClientChannelsPerUser = 2 };
        await using var host = await TestHost.StartAsync(options).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        await client.SendNoContentAsync(Subscribe("room-1"));
        await client.SendNoContentAsync(Subscribe("room-2"));

        using var third = await client.SendJsonAsync(Subscribe("room-3")).Bounded();
        var problem = await third.AssertProblemAsync(HttpStatusCode.Forbidden);
        // Joining a channel the user is in already adds none.
        await client.SendNoContentAsync(Subscribe("room-1"));
        await client.SendNoContentAsync(Unsubscribe("room-1"));
        await client.SendNoContentAsync(Subscribe("room-3"));

        Assert.Equal("Too many channels", problem.Title());
        Assert.Contains("2", problem.Detail(), StringComparison.Ordinal);
        Assert.Equal(["room-2", "room-3"], host.Dispatcher.GetChannels("ann").Order(StringComparer.Ordinal));
        Assert.DoesNotContain(host.Logs.Entries, static e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task Channels_the_application_subscribed_the_user_to_count_towards_the_limit()
    {
        var options = new TestHostOptions { Antiforgery = false, Configure = o => o.MaxClientChannelsPerUser = 1 };
        await using var host = await TestHost.StartAsync(options).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        await host.Dispatcher.SubscribeAsync("ann", "announcements").Bounded();
        using var client = host.CreateClient("ann");

        using var response = await client.SendJsonAsync(Subscribe("room-1")).Bounded();

        Assert.Equal("Too many channels", (await response.AssertProblemAsync(HttpStatusCode.Forbidden)).Title());
        Assert.Equal(["announcements"], host.Dispatcher.GetChannels("ann"));
    }

    [Fact]
    public async Task At_most_100_channels_per_user_by_default()
    {
        var options = new TestHostOptions { Antiforgery = false };
        await using var host = await TestHost.StartAsync(options).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        for (var i = 0; i < 99; i++)
        {
            await host.Dispatcher.SubscribeAsync("ann", $"room-{i}").Bounded();
        }

        using var client = host.CreateClient("ann");

        await client.SendNoContentAsync(Subscribe("room-99"));
        using var response = await client.SendJsonAsync(Subscribe("room-100")).Bounded();

        await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(100, host.Dispatcher.GetChannels("ann").Count);
        Assert.Equal(100, new CometyOptions().MaxClientChannelsPerUser);
    }

    [Fact]
    public async Task A_bad_pattern_in_configuration_stops_the_start_with_a_message_naming_it()
    {
        var options = new TestHostOptions();
        options.Configuration["Comety:ClientChannels:0"] = "room-*";
        options.Configuration["Comety:ClientChannels:1"] = "ro*om";

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => TestHost.StartAsync(options).Bounded());

        Assert.Contains("Comety:ClientChannels:1 'ro*om'", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("room-*", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ro*om")]
    [InlineData("*room")]
    [InlineData("room**")]
    [InlineData("**")]
    [InlineData(" room-*")]
    [InlineData("lobby ")]
    [InlineData("room\u0007*")]
    [InlineData("")]
    public async Task An_invalid_pattern_stops_the_start_with_a_message_naming_it(string pattern)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddComety(o => o.ClientChannels.Add(pattern));
        using var host = builder.Build();

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().Bounded());

        Assert.Contains($"Comety:ClientChannels:0 '{pattern}' is not a channel pattern", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pattern_longer_than_any_channel_name_stops_the_start()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Comety:ClientChannels:0"] = new string('c', 201) + "*" });
        builder.Services.AddComety();
        using var host = builder.Build();

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().Bounded());

        Assert.Contains("Comety:ClientChannels:0", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Valid_patterns_of_every_form_let_the_application_start()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddComety(o =>
        {
            o.ClientChannels.Add("*");
            o.ClientChannels.Add("room:*");
            o.ClientChannels.Add("lobby");
            o.ClientChannels.Add(new string('c', 200));
            o.ClientChannels.Add("ü ☃ room with spaces");
        });
        using var host = builder.Build();

        await host.StartAsync().Bounded();
        await host.StopAsync().Bounded();
    }
}
