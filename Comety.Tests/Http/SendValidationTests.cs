using System.Net;
using System.Text;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Comety.Tests.Http;

/// <summary>The 400, 403, 413, 415 and 500 answers to sends; none of them changes the user's subscriptions.</summary>
public sealed class SendValidationTests
{
    public static TheoryData<string> InvalidBodies => new()
    {
        "",
        "not json",
        """{"type": "subscribe", "channel": "room-1" """,
        """{"type": "subscribe", "channel": "room-1"} trailing""",
        "[]",
        "\"subscribe\"",
        "{}",
        """{"type": 1, "channel": "room-1"}""",
        """{"type": "publish", "channel": "room-1"}""",
        """{"type": "Subscribe", "channel": "room-1"}""",
        """{"type": "subscribe"}""",
        """{"type": "subscribe", "channel": null}""",
        """{"type": "unsubscribe"}""",
        """{"type": "subscribe", "channel": ""}""",
        """{"type": "subscribe", "channel": "room\u0007bell"}""",
        """{"type": "subscribe", "channel": "room\n1"}""",
        """{"type": "subscribe", "channel": "room\u007F1"}""",
        """{"type": "subscribe", "channel": 1}""",
        """{"type": "subscribe", "channel": ["room-1"]}""",
        """{"type": "subscribe", "channel": {"name": "room-1"}}""",
        """{"type": "message", "data": 1, "channel": ""}""",
        """{"type": "message", "data": 1, "channel": true}""",
        """{"type": "message"}""",
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Malformed_json_an_unknown_type_or_a_missing_or_invalid_channel_is_400(string body)
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Antiforgery = false }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        var messages = 0;
        using var handler = host.Dispatcher.On(LifecycleEvent.Message, _ =>
        {
            Interlocked.Increment(ref messages);
            return ValueTask.CompletedTask;
        });
        using var client = host.CreateClient("ann");

        using var response = await client.SendJsonAsync(body).Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("Invalid message", problem.Title());
        Assert.Empty(host.Dispatcher.GetChannels("ann"));
        Assert.Equal(0, Volatile.Read(ref messages));
    }

    [Fact]
    public async Task A_channel_has_at_most_200_characters()
    {
        // Every channel open, so that only the rule for names decides.
        var options = new TestHostOptions { Antiforgery = false, ClientChannels = { "*" } };
        await using var host = await TestHost.StartAsync(options).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        var longest = new string('c', 200);

        using var tooLong = await client.SendJsonAsync($$"""{"type": "subscribe", "channel": "{{longest}}c"}""").Bounded();
        await tooLong.AssertProblemAsync(HttpStatusCode.BadRequest);
        await client.SendNoContentAsync($$"""{"type": "subscribe", "channel": "{{longest}}"}""");
        await client.SendNoContentAsync("""{"type": "subscribe", "channel": "ü ☃ room with spaces"}""");

        var channels = host.Dispatcher.GetChannels("ann");
        Assert.Equal(2, channels.Count);
        Assert.Contains(longest, channels);
        Assert.Contains("ü ☃ room with spaces", channels);
    }

    [Fact]
    public async Task A_send_from_no_identifiable_user_is_403()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Antiforgery = false }).Bounded();
        using var client = host.CreateClient();

        using var response = await client.SendJsonAsync("""{"type": "subscribe", "channel": "room-1"}""").Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal("No user", problem.Title());
    }

    [Fact]
    public async Task A_send_from_a_user_that_is_not_registered_is_403()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Antiforgery = false }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("mallory");

        using var response = await client.SendJsonAsync("""{"type": "subscribe", "channel": "room-1"}""").Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal("Not registered", problem.Title());
        Assert.Empty(host.Dispatcher.GetSubscribers("room-1"));
    }

    [Fact]
    public async Task A_subscription_the_application_refuses_is_403()
    {
        // Open by configuration, so that the refusal is the application's hook's.
        var options = new TestHostOptions { Antiforgery = false, ClientChannels = { "staff" } };
        options.Behaviour.RefusedChannels.Add("staff");
        await using var host = await TestHost.StartAsync(options).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        using var refused = await client.SendJsonAsync("""{"type": "subscribe", "channel": "staff"}""").Bounded();
        var problem = await refused.AssertProblemAsync(HttpStatusCode.Forbidden);
        await client.SendNoContentAsync("""{"type": "subscribe", "channel": "lobby"}""");

        Assert.Equal("Subscription refused", problem.Title());
        Assert.Equal(["lobby"], host.Dispatcher.GetChannels("ann"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_over_MaxMessageBytes_is_413(bool chunked)
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Antiforgery = false, MaxMessageBytes = 1024 }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        var body = MessageOfLength(1025);

        using var response = await client.SendBodyAsync(Content(body, chunked)).Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("1024 bytes", problem.Detail(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_over_the_default_64_KiB_is_413(bool chunked)
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Antiforgery = false }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        using var response = await client.SendBodyAsync(Content(MessageOfLength((64 * 1024) + 1), chunked)).Bounded();
        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        using var atTheLimit = await client.SendBodyAsync(Content(MessageOfLength(64 * 1024), chunked)).Bounded();

        Assert.Equal(HttpStatusCode.NoContent, atTheLimit.StatusCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_over_the_servers_own_limit_is_413_too(bool chunked)
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions
        {
            Antiforgery = false,
            ConfigureServices = services => services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = 1000),
        }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");

        using var response = await client.SendBodyAsync(Content(MessageOfLength(2000), chunked)).Bounded();

        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/problem+json")]
    [InlineData("text/json")]
    [InlineData(null)]
    public async Task A_body_that_is_not_application_json_is_415(string? contentType)
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Antiforgery = false }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        using var client = host.CreateClient("ann");
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"type": "subscribe", "channel": "room-1"}"""));
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        using var response = await client.SendBodyAsync(content).Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType);
        Assert.Equal("Unsupported media type", problem.Title());
        Assert.Empty(host.Dispatcher.GetChannels("ann"));
    }

    [Fact]
    public async Task A_send_to_a_controller_without_a_dispatcher_is_500()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Antiforgery = false, Behaviour = { NoDispatcher = true } }).Bounded();
        using var client = host.CreateClient("ann");

        using var response = await client.SendJsonAsync("""{"type": "subscribe", "channel": "room-1"}""").Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.InternalServerError);
        Assert.Equal("Comety is misconfigured", problem.Title());
    }

    [Fact]
    public async Task A_send_the_application_fails_on_is_500_without_a_stack_trace_and_raises_Error()
    {
        var failure = new InvalidOperationException("The permissions store is down.");
        await using var host = await TestHost.StartAsync(new TestHostOptions { Antiforgery = false, Behaviour = { SubscriptionFailure = failure } }).Bounded();
        await host.Dispatcher.RegisterUserAsync("ann").Bounded();
        var reported = new TaskCompletionSource<(string? User, Exception? Exception)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var handler = host.Dispatcher.On(LifecycleEvent.Error, context =>
        {
            reported.TrySetResult((context.UserId, context.Exception));
            return ValueTask.CompletedTask;
        });
        using var client = host.CreateClient("ann");

        using var response = await client.SendJsonAsync("""{"type": "subscribe", "channel": "room-1"}""").Bounded();

        var problem = await response.AssertProblemAsync(HttpStatusCode.InternalServerError);
        Assert.DoesNotContain("permissions", problem.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(("ann", (Exception?)failure), await reported.Task.Bounded());
        Assert.Empty(host.Dispatcher.GetChannels("ann"));

        // Logged once, as the server's own fault.
        var logged = Assert.Single(host.Logs.Entries, e => e.Exception == failure);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Error, logged.Level);
    }

    /// <summary>A valid message of exactly <paramref name="length"/> UTF-8 bytes.</summary>
    internal static byte[] MessageOfLength(int length)
    {
        const string Prefix = "{\"type\":\"message\",\"data\":\"";
        const string Suffix = "\"}";
        var padding = length - Prefix.Length - Suffix.Length;
        var bytes = Encoding.UTF8.GetBytes(Prefix + new string('x', padding) + Suffix);
        Assert.Equal(length, bytes.Length);
        return bytes;
    }

    private static HttpContent Content(byte[] body, bool chunked) =>
        chunked ? new UnknownLengthContent(body, "application/json") : new ByteArrayContent(body) { Headers = { { "Content-Type", "application/json" } } };
}
