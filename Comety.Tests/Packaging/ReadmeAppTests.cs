using System.Net;
using System.Text.RegularExpressions;
using Comety.Tests.Infrastructure;
using Comety.Tests.Packaging.Infrastructure;

namespace Comety.Tests.Packaging;

/// <summary>
/// The README's "Adding Comety to an MVC application", followed literally from <c>dotnet new mvc</c>
/// on the packages it packs (<see cref="ReadmeApp"/>), works in Chromium: a visitor nobody signed in
/// for never polls, a signed-in user sees the events the server posts, and a page recovers from a
/// heartbeat timeout and from a server restart without reloading itself more than once. Slow (packs,
/// a restore and a build, once for the class), hence the category; one Chromium at a time, with the
/// browser tests.
/// </summary>
[Trait("Category", "Packaging")]
[Collection(BrowserSuite.Name)]
public sealed class ReadmeAppTests(BrowserFixture browser, ReadmeApp readme) : IClassFixture<ReadmeApp>
{
    private const string ReloadMark = "Comety.reloaded:" + ReadmeAppPage.UpdatesPath;

    // The application's default heartbeat (15 s, 5 times that until a delay is measured) is too long to wait out.
    private static readonly Dictionary<string, string> ShortHeartbeat = new()
    {
        ["Comety:HeartbeatTimeout"] = "00:00:01",
        ["Logging:LogLevel:Comety.CometyDispatcher"] = "Debug",
    };

    // A page retries a failed poll after 1, 2, 4, 8 s...: long enough for the stopped server to start again and answer one.
    private static readonly TimeSpan RestartBound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_signed_out_visitor_gets_the_script_but_never_polls_nor_reloads()
    {
        await using var app = await readme.StartAsync();
        await using var page = await ReadmeAppPage.OpenAsync(browser, app.BaseAddress);

        await page.GotoAsync("/");
        // Past the load event and every ready handler, auto-start's among them: a poll would have begun.
        await page.WaitForReadyHandlersAsync();

        Assert.True(await page.EvaluateAsync<bool>("() => typeof comety === 'object' && typeof comety.startUpdates === 'function'"), $"The layout rendered no Comety API.\n{await page.DescribeAsync()}");
        Assert.False(await page.IsRunningAsync());
        Assert.Empty(page.Polls);
        Assert.Equal(1, page.Loads);
    }

    [Fact]
    public async Task A_signed_in_user_sees_the_events_the_server_posts_to_its_channel()
    {
        await using var app = await readme.StartAsync();
        await using var page = await ReadmeAppPage.OpenAsync(browser, app.BaseAddress);

        await page.SignInAsync(NewUser());
        await page.WaitUntilAsync("() => comety.isRunning()", null, "the room's page to poll");
        await SayAsync(app, "hello from the server");
        await page.WaitForShownAsync("hello from the server");

        Assert.Equal(["hello from the server"], await page.ShownAsync());
        Assert.NotEmpty(page.Polls);
        Assert.Equal(1, page.Loads);
    }

    [Fact]
    public async Task After_a_heartbeat_timeout_the_page_reloads_once_which_registers_its_user_again_and_events_arrive()
    {
        await using var app = await readme.StartAsync(ShortHeartbeat);
        await using var page = await ReadmeAppPage.OpenAsync(browser, app.BaseAddress);
        var user = NewUser();
        await page.SignInAsync(user);
        await page.WaitUntilAsync("() => comety.isRunning()", null, "the room's page to poll");
        await SayAsync(app, "before the pause");
        await page.WaitForShownAsync("before the pause");

        // The page stops polling (a laptop asleep, a frozen tab) until the server has let its user go.
        await page.RunAsync("() => comety.stopUpdates()");
        await app.WaitForLogAsync(UserLine(user, "unregistered"), TestEvents.Bound);

        // Its next poll is refused (403 not-registered); the default handler reloads the page, whose layout registers the user again.
        await page.RunAsync("() => comety.startUpdates()");
        await BrowserWait.UntilAsync(() => page.Loads == 2, "the page to reload itself");
        await page.WaitUntilAsync(
            "() => performance.getEntriesByType('navigation')[0].type === 'reload' && typeof comety === 'object' && comety.isRunning()",
            null,
            "the reloaded page to poll");
        await BrowserWait.UntilAsync(() => UserLine(user, "registered").Count(app.Output) == 2, "the user to be registered again");
        await SayAsync(app, "after the reload");
        await page.WaitForShownAsync("after the reload");

        // The message said before the pause is in the reloaded page's data, and not again among its events.
        Assert.Equal(["before the pause"], await page.RenderedMessagesAsync());
        Assert.Equal(["after the reload"], await page.ShownAsync());
        Assert.Equal(2, page.Loads);
        Assert.Null(await page.EvaluateAsync<string?>("key => sessionStorage.getItem(key)", ReloadMark));
    }

    [Fact]
    public async Task After_a_server_restart_an_open_page_stops_without_reloading_and_events_arrive_once_its_user_signs_in_again()
    {
        var app = await readme.StartAsync();
        try
        {
            await using var page = await ReadmeAppPage.OpenAsync(browser, app.BaseAddress);
            var user = NewUser();
            await page.SignInAsync(user);
            await page.WaitUntilAsync("() => comety.isRunning()", null, "the room's page to poll");
            await SayAsync(app, "before the restart");
            await page.WaitForShownAsync("before the restart");

            // The sessions were in the stopped server's memory: the new one knows nobody.
            var port = app.BaseAddress.Port;
            await app.StopAsync();
            await app.DisposeAsync();
            app = await readme.StartAsync(port: port);
            await page.WaitForConsoleAsync("nobody is signed in on this page (403 no-user)", RestartBound);

            Assert.Equal(1, page.Loads);
            Assert.False(await page.IsRunningAsync());
            Assert.Null(await page.EvaluateAsync<string?>("key => sessionStorage.getItem(key)", ReloadMark));

            await page.SignInAsync(user);
            await page.WaitUntilAsync("() => comety.isRunning()", null, "the room's page to poll again");
            await SayAsync(app, "after the restart");
            await page.WaitForShownAsync("after the restart");

            Assert.Equal(["after the restart"], await page.ShownAsync());
            Assert.Equal(2, page.Loads);
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    private static string NewUser() => "reader-" + Guid.NewGuid().ToString("N")[..8];

    // The dispatcher's Debug lines "User 'ann' registered; …" and "User 'ann' unregistered."
    private static Regex UserLine(string user, string what) => new($@"User '{Regex.Escape(user)}' {what}[;.]", RegexOptions.CultureInvariant);

    // The application's own way to post an event: a message said in the room.
    private static async Task SayAsync(RunningApp app, string text)
    {
        using var client = app.CreateClient();
        using var form = new FormUrlEncodedContent([new("text", text)]);
        using var answer = await client.PostAsync(new Uri(ReadmeAppOwnCode.SayPath, UriKind.Relative), form).Bounded();
        Assert.True(answer.StatusCode == HttpStatusCode.NoContent, $"POST {ReadmeAppOwnCode.SayPath} answered {(int)answer.StatusCode}.\nThe application logged:\n{app.Output}");
    }
}
