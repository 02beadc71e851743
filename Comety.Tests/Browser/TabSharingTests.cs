using System.Diagnostics;
using Comety.Tests.Http.Infrastructure;
using Comety.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Comety.Tests.Infrastructure.TestEvents;

namespace Comety.Tests.Browser;

/// <summary>
/// One connection per browser, however many tabs: the tabs of one user (the same <c>share-as</c>) in
/// one browser context share one poll or stream, each still gets every event once and in order, and
/// the holding tab hands over with nothing lost or repeated, also when the browser freezes it.
/// </summary>
[Collection(BrowserSuite.Name)]
[Trait("Category", "Browser")]
public sealed class TabSharingTests(BrowserFixture browser, ITestOutputHelper output)
{
    // As in a browser that stops a tab without the 'freeze' event (Safari and Firefox have none; a tab
    // paused in a debugger) and runs nothing of it meanwhile: the page's script never hears of the
    // freeze, and what it would post on a BroadcastChannel while frozen never goes. Chromium itself
    // still runs a frozen page's message events (a frozen tab answers probes; it is the 'freeze' event
    // that hands over there), so the test keeps the frozen tab's posts back itself. (Run in the page
    // once it has loaded: the capturing listener on window comes before the script's on document.)
    private const string SilentFreeze = """
        (() => {
            let frozen = false;
            window.addEventListener('freeze', event => { event.stopImmediatePropagation(); frozen = true; }, true);
            window.addEventListener('resume', () => { frozen = false; }, true);
            const post = BroadcastChannel.prototype.postMessage;
            BroadcastChannel.prototype.postMessage = function (message) {
                if (!frozen) {
                    post.call(this, message);
                }
            };
        })()
        """;

    // The tab records the type of every message it posts on a BroadcastChannel from now on ('batch' for a batch).
    private const string RecordPosts = """
        (() => {
            window.posted = [];
            const post = BroadcastChannel.prototype.postMessage;
            BroadcastChannel.prototype.postMessage = function (message) {
                window.posted.push(message && typeof message.type === 'string' ? message.type : 'batch');
                return post.call(this, message);
            };
        })()
        """;

    [Theory]
    [InlineData("poll")]
    [InlineData("stream")]
    public async Task Ten_tabs_of_one_user_each_show_every_event_once_in_order_over_one_waiting_request(string transport)
    {
        await using var host = await TestHost.StartAsync();
        await using var tabs = await Tabs.OpenAsync(browser, host, "ann", 10, Sharing("ann", transport));
        var leader = await tabs.LeaderAsync();
        var posted = new List<long?>();
        for (var i = 0; i < 5; i++)
        {
            posted.Add(await host.Dispatcher.BroadcastAsync("server", Args("e" + i)).Bounded());
        }

        foreach (var tab in tabs.All)
        {
            await tab.WaitForReceivedAsync(posted.Count);
        }

        foreach (var tab in tabs.All)
        {
            Assert.Equal(posted, (await tab.ReceivedAsync()).Select(e => (long?)e.Sequence));
            Assert.Empty(await tab.ErrorStatusesAsync());
        }

        // One tab ever sent a request that waits; the others only looked (timeout=0) from their positions.
        Assert.Single(tabs.All, tab => tab.Polls.Any(IsWaiting));
        Assert.All(tabs.All.Where(tab => tab != leader), tab => Assert.All(tab.Polls, poll => Assert.False(IsWaiting(poll))));
        Assert.All(leader.Polls.Where(IsWaiting), poll => Assert.Equal(transport == "stream", BrowserPage.IsStream(poll)));
        if (transport == "poll")
        {
            await BrowserWait.UntilAsync(() => host.Dispatcher.WaitingPollCount == 1, "the leader's poll to wait again");
        }
    }

    [Theory]
    [InlineData("close", "poll")]
    [InlineData("navigate", "poll")]
    [InlineData("close", "stream")]
    [InlineData("navigate", "stream")]
    public async Task When_the_holding_tab_goes_another_takes_over_with_nothing_lost_or_repeated(string how, string transport)
    {
        await using var host = await TestHost.StartAsync();
        await using var tabs = await Tabs.OpenAsync(browser, host, "ann", 3, Sharing("ann", transport));
        var leader = await tabs.LeaderAsync();
        var others = tabs.All.Where(tab => tab != leader).ToArray();
        var posted = new List<long?> { await host.Dispatcher.BroadcastAsync("server", Args("first")).Bounded() };
        foreach (var tab in tabs.All)
        {
            await tab.WaitForReceivedAsync(1);
        }

        posted.Add(await host.Dispatcher.BroadcastAsync("server", Args("before")).Bounded());
        if (how == "close")
        {
            await leader.Page.CloseAsync().Bounded();
        }
        else
        {
            await leader.Page.GotoAsync("about:blank").Bounded();
        }

        posted.Add(await host.Dispatcher.BroadcastAsync("server", Args("during")).Bounded());
        await BrowserWait.UntilAsync(() => others.Count(tab => tab.Polls.Any(IsWaiting)) == 1, "another tab to take over the connection");
        posted.Add(await host.Dispatcher.BroadcastAsync("server", Args("after")).Bounded());
        foreach (var tab in others)
        {
            await tab.WaitForReceivedAsync(posted.Count);
        }

        foreach (var tab in others)
        {
            Assert.Equal(posted, (await tab.ReceivedAsync()).Select(e => (long?)e.Sequence));
            Assert.True(await tab.IsRunningAsync());
        }
    }

    [Theory]
    [InlineData("poll", "told")]
    [InlineData("stream", "told")]
    [InlineData("poll", "silent")]
    [InlineData("stream", "silent")]
    public async Task When_the_holding_tab_is_frozen_another_takes_over_and_the_frozen_one_resumes_with_nothing_lost_or_repeated(string transport, string freeze)
    {
        await using var host = await TestHost.StartAsync();
        await using var lifecycle = await LifecycleBrowser.StartAsync(host);

        // Three tabs of one window: the last one opened is in front, the others hidden.
        await using var tabs = await Tabs.OpenAsync(lifecycle, "ann", 3, Sharing("ann", transport));
        var leader = await tabs.LeaderAsync();
        if (freeze == "silent")
        {
            await leader.EvaluateAsync<object>(SilentFreeze);
        }

        var others = tabs.All.Where(tab => tab != leader).ToArray();
        Assert.Equal("visible", await tabs.All[^1].EvaluateAsync<string>("() => document.visibilityState"));
        var posted = new List<long?> { await host.Dispatcher.BroadcastAsync("server", Args("first")).Bounded() };
        foreach (var tab in tabs.All)
        {
            await tab.WaitForReceivedAsync(1);
        }

        await lifecycle.SetLifecycleStateAsync(leader, "frozen");
        var frozen = Stopwatch.StartNew();
        posted.Add(await host.Dispatcher.BroadcastAsync("server", Args("while-frozen")).Bounded());
        await BrowserWait.UntilAsync(() => others.Count(tab => tab.Polls.Any(IsWaiting)) == 1, "another tab to take over from the frozen one");
        output.WriteLine($"{transport}, {freeze}: another tab took over {frozen.ElapsedMilliseconds} ms after the holding tab was frozen");
        posted.Add(await host.Dispatcher.BroadcastAsync("server", Args("after-takeover")).Bounded());
        foreach (var tab in others)
        {
            await tab.WaitForReceivedAsync(posted.Count);
            Assert.Equal(posted, (await tab.ReceivedAsync()).Select(e => (long?)e.Sequence));
        }

        await lifecycle.SetLifecycleStateAsync(leader, "active");
        if (freeze == "silent")
        {
            // It learns as it runs again that the lock went, and follows.
            await leader.WaitForConsoleAsync("another tab took over the shared updates");
        }

        await leader.WaitForReceivedAsync(posted.Count);
        posted.Add(await host.Dispatcher.BroadcastAsync("server", Args("after-resume")).Bounded());
        foreach (var tab in tabs.All)
        {
            await tab.WaitForReceivedAsync(posted.Count);
        }

        foreach (var tab in tabs.All)
        {
            Assert.Equal(posted, (await tab.ReceivedAsync()).Select(e => (long?)e.Sequence));
            Assert.True(await tab.IsRunningAsync());
        }

        // One tab took over and keeps the connection: the resumed tab follows it.
        Assert.Single(others, tab => tab.Polls.Any(IsWaiting));
        if (transport == "poll")
        {
            await BrowserWait.UntilAsync(() => host.Dispatcher.WaitingPollCount == 1, "one poll to wait: the new holder's");
        }
    }

    [Fact]
    public async Task A_live_holding_tab_answers_the_probes_of_the_visible_tab_and_is_not_taken_over_and_a_hidden_tab_probes_only_once_it_shows()
    {
        await using var host = await TestHost.StartAsync();
        await using var lifecycle = await LifecycleBrowser.StartAsync(host);
        await using var tabs = await Tabs.OpenAsync(lifecycle, "ann", 3, Sharing("ann", "poll"));
        var leader = await tabs.LeaderAsync();
        var visible = tabs.All[^1];
        var hidden = tabs.All.Single(tab => tab != leader && tab != visible);
        Assert.Equal(["hidden", "hidden", "visible"], [await leader.EvaluateAsync<string>("() => document.visibilityState"), await hidden.EvaluateAsync<string>("() => document.visibilityState"), await visible.EvaluateAsync<string>("() => document.visibilityState")]);
        foreach (var tab in (BrowserPage[])[leader, hidden, visible])
        {
            await tab.EvaluateAsync<object>(RecordPosts);
        }

        // Three probe periods and more: the visible tab probed, the holder answered every probe, and
        // nobody took over; the hidden tab never probed.
        await visible.WaitUntilAsync("() => window.posted.filter(type => type === 'probe').length >= 3", null, "the visible tab to probe three times");
        await leader.WaitUntilAsync("() => window.posted.filter(type => type === 'alive').length >= 3", null, "the holding tab to answer the probes");
        Assert.Empty(await hidden.EvaluateAsync<string[]>("() => window.posted"));
        Assert.Empty(await visible.EvaluateAsync<string[]>("() => window.posted.filter(type => type !== 'probe')"));

        // Brought to front, it probes at once; the holder answers, and keeps the connection.
        await hidden.Page.BringToFrontAsync().Bounded();
        await hidden.WaitUntilAsync("() => document.visibilityState === 'visible' && window.posted.includes('probe')", null, "the tab brought to front to probe");
        var last = await host.Dispatcher.BroadcastAsync("server", Args("still-shared")).Bounded();
        foreach (var tab in tabs.All)
        {
            await tab.WaitForReceivedAsync(1);
            Assert.Equal([last], (await tab.ReceivedAsync()).Select(e => (long?)e.Sequence));
        }

        Assert.Single(tabs.All, tab => tab.Polls.Any(IsWaiting));
        Assert.Contains(leader, tabs.All.Where(tab => tab.Polls.Any(IsWaiting)));
        Assert.All(await hidden.EvaluateAsync<string[]>("() => window.posted"), type => Assert.Equal("probe", type));
        await BrowserWait.UntilAsync(() => host.Dispatcher.WaitingPollCount == 1, "the holder's poll to wait again");
    }

    [Fact]
    public async Task Two_users_in_two_contexts_never_share_and_neither_do_two_share_as_values_in_one_context()
    {
        await using var host = await TestHost.StartAsync(new TestHostOptions { Configure = o => o.MaxPollsPerUser = 4 });
        await using var ann = await Tabs.OpenAsync(browser, host, "ann", 2, Sharing("ann", "poll"));
        await using var bob = await Tabs.OpenAsync(browser, host, "bob", 2, Sharing("bob", "poll"));
        await ann.LeaderAsync();
        await bob.LeaderAsync();
        var forAnn = await host.Dispatcher.PostToUserAsync("ann", "server", Args("for-ann")).Bounded();
        var forAll = await host.Dispatcher.BroadcastAsync("server", Args("for-all")).Bounded();
        foreach (var tab in ann.All)
        {
            await tab.WaitForReceivedAsync(2);
            Assert.Equal([forAnn, forAll], (await tab.ReceivedAsync()).Select(e => (long?)e.Sequence));
        }

        foreach (var tab in bob.All)
        {
            await tab.WaitForReceivedAsync(1);
            Assert.Equal([forAll], (await tab.ReceivedAsync()).Select(e => (long?)e.Sequence));
        }

        // In ann's context, a third tab with another share-as keeps its own poll.
        var other = await ann.AddAsync("ann", Sharing("ann-elsewhere", "poll"));
        await BrowserWait.UntilAsync(() => other.Polls.Any(IsWaiting), "the tab with another share-as to poll on its own");
        await BrowserWait.UntilAsync(() => host.Dispatcher.WaitingPollCount == 3, "three polls to wait: one per context, one for the other share-as");
        var last = await host.Dispatcher.BroadcastAsync("server", Args("last")).Bounded();
        await other.WaitForReceivedAsync(1);
        Assert.Equal([last], (await other.ReceivedAsync()).Select(e => (long?)e.Sequence));
        Assert.Single(ann.All.Take(2), tab => tab.Polls.Any(IsWaiting));
        Assert.Single(bob.All, tab => tab.Polls.Any(IsWaiting));
    }

    [Theory]
    [InlineData("leader")]
    [InlineData("follower")]
    public async Task A_tab_whose_handler_consumes_nothing_stops_alone_and_the_others_go_on(string role)
    {
        await using var host = await TestHost.StartAsync();
        await using var tabs = await Tabs.OpenAsync(browser, host, "ann", 3, Sharing("ann", "poll"));
        var leader = await tabs.LeaderAsync();
        var stopping = role == "leader" ? leader : tabs.All.First(tab => tab != leader);
        var others = tabs.All.Where(tab => tab != stopping).ToArray();
        await stopping.EvaluateAsync<bool>("() => { window.offered = 0; window.consume = events => { window.offered += events.length; return 0; }; return true; }");

        var first = await host.Dispatcher.BroadcastAsync("server", Args("refused-by-one")).Bounded();
        await stopping.WaitUntilAsync("() => window.offered === 1 && !comety.isRunning()", null, "the tab to stop after its handler consumed nothing");
        if (role == "leader")
        {
            await BrowserWait.UntilAsync(() => others.Count(tab => tab.Polls.Any(IsWaiting)) == 1, "another tab to take over the connection");
        }

        var second = await host.Dispatcher.BroadcastAsync("server", Args("after")).Bounded();
        foreach (var tab in others)
        {
            await tab.WaitForReceivedAsync(2);
            Assert.Equal([first, second], (await tab.ReceivedAsync()).Select(e => (long?)e.Sequence));
            Assert.True(await tab.IsRunningAsync());
        }

        Assert.Empty(await stopping.ReceivedAsync());
        Assert.Equal(1, await stopping.EvaluateAsync<int>("() => window.offered"));
        Assert.False(await stopping.IsRunningAsync());
    }

    [Fact]
    public async Task A_tab_whose_handler_consumes_fewer_gets_the_rest_again_once_and_in_order_while_the_others_go_on()
    {
        await using var host = await TestHost.StartAsync();
        await using var tabs = await Tabs.OpenAsync(browser, host, "ann", 3, Sharing("ann", "poll"));
        var leader = await tabs.LeaderAsync();
        var slow = tabs.All.First(tab => tab != leader);
        await slow.EvaluateAsync<bool>("() => { window.batches = []; window.consume = events => { window.batches.push(events.map(e => e[2])); return 1; }; return true; }");

        // The slow tab stops while two events come, then starts again: its first look from its position
        // gets both, and it consumes one at a time.
        await slow.EvaluateAsync<bool>("() => { comety.stopUpdates(); return true; }");
        var posted = new List<long?>();
        for (var i = 0; i < 2; i++)
        {
            posted.Add(await host.Dispatcher.BroadcastAsync("server", Args("while-stopped")).Bounded());
        }

        await leader.WaitForReceivedAsync(2);
        await slow.EvaluateAsync<bool>("() => { comety.startUpdates(); return true; }");
        await slow.WaitForReceivedAsync(2);
        posted.Add(await host.Dispatcher.BroadcastAsync("server", Args("after")).Bounded());
        foreach (var tab in tabs.All)
        {
            await tab.WaitForReceivedAsync(3);
            Assert.Equal(posted, (await tab.ReceivedAsync()).Select(e => (long?)e.Sequence));
        }

        Assert.Single(tabs.All, tab => tab.Polls.Any(IsWaiting));
        var batches = await slow.EvaluateAsync<long[][]>("() => window.batches");
        Assert.Equal([[posted[0]!.Value, posted[1]!.Value], [posted[1]!.Value], [posted[2]!.Value]], batches);
    }

    [Fact]
    public async Task A_tab_that_joins_after_events_were_passed_on_gets_those_after_its_position_from_its_own_look()
    {
        await using var host = await TestHost.StartAsync();
        await using var tabs = await Tabs.OpenAsync(browser, host, "ann", 2, Sharing("ann", "poll"));
        await tabs.LeaderAsync();

        // Posted after the new tab's position was read and before it rendered: the leader passes it
        // on before the new tab listens, and the new tab gets it from its own look at the server.
        var late = await tabs.AddAsync("ann", Sharing("ann", "poll"), postBetween: "between");
        await late.WaitForReceivedAsync(1);
        var after = await host.Dispatcher.BroadcastAsync("server", Args("after")).Bounded();
        await late.WaitForReceivedAsync(2);

        Assert.Equal(["between", "after"], (await late.ReceivedAsync()).Select(e => e.Type));
        Assert.Equal(after, (await late.ReceivedAsync())[^1].Sequence);
        Assert.All(late.Polls, poll => Assert.False(IsWaiting(poll)));
    }

    [Fact]
    public async Task Events_the_leader_gets_again_after_consuming_fewer_are_not_repeated_in_the_other_tabs()
    {
        await using var host = await TestHost.StartAsync();
        await using var tabs = await Tabs.OpenAsync(browser, host, "ann", 3, Sharing("ann", "poll"));
        var leader = await tabs.LeaderAsync();
        await BrowserWait.UntilAsync(() => host.Dispatcher.WaitingPollCount == 1, "the leader's poll to wait");

        // The leader's next poll is held in the browser until two events wait for it, so that its
        // answer holds both; the leader consumes one, and its poll after gets the second again.
        var held = System.Threading.Channels.Channel.CreateUnbounded<IRoute>();
        var intercepted = 0;
        await leader.Page.RouteAsync(BrowserPage.UpdatesGlob, route => Interlocked.Increment(ref intercepted) == 1 ? held.Writer.WriteAsync(route).AsTask() : route.ContinueAsync()).Bounded();
        var posted = new List<long?> { await host.Dispatcher.BroadcastAsync("server", Args("first")).Bounded() };
        await leader.WaitForReceivedAsync(1);
        var poll = await held.Reader.ReadAsync().AsTask().WaitAsync(Bound);
        for (var i = 0; i < 2; i++)
        {
            posted.Add(await host.Dispatcher.BroadcastAsync("server", Args("together")).Bounded());
        }

        await leader.EvaluateAsync<bool>("() => { window.batches = []; window.consume = events => { window.batches.push(events.map(e => e[2])); return 1; }; return true; }");
        await poll.ContinueAsync().Bounded();
        foreach (var tab in tabs.All)
        {
            await tab.WaitForReceivedAsync(3);
        }

        Assert.Equal([[posted[1]!.Value, posted[2]!.Value], [posted[2]!.Value]], await leader.EvaluateAsync<long[][]>("() => window.batches"));
        await BrowserWait.UntilAsync(() => host.Dispatcher.WaitingPollCount == 1, "the leader's poll after the repeated event to wait");
        var last = await host.Dispatcher.BroadcastAsync("server", Args("last")).Bounded();
        posted.Add(last);
        foreach (var tab in tabs.All)
        {
            await tab.WaitForReceivedAsync(4);
            Assert.Equal(posted, (await tab.ReceivedAsync()).Select(e => (long?)e.Sequence));
        }
    }

    [Fact]
    public async Task A_tab_without_BroadcastChannel_polls_on_its_own_while_the_others_share()
    {
        await using var host = await TestHost.StartAsync();
        await using var tabs = await Tabs.OpenAsync(browser, host, "ann", 2, Sharing("ann", "poll"));
        var leader = await tabs.LeaderAsync();
        var alone = await tabs.AddAsync("ann", Sharing("ann", "poll"), "delete window.BroadcastChannel");
        Assert.False(await alone.EvaluateAsync<bool>("() => 'BroadcastChannel' in window"));
        await BrowserWait.UntilAsync(() => alone.Polls.Any(IsWaiting), "the tab without BroadcastChannel to poll on its own");
        await BrowserWait.UntilAsync(() => host.Dispatcher.WaitingPollCount == 2, "two polls to wait: the shared one and the lone tab's");

        var posted = await host.Dispatcher.BroadcastAsync("server", Args("to-all")).Bounded();
        foreach (var tab in tabs.All)
        {
            await tab.WaitForReceivedAsync(1);
            Assert.Equal([posted], (await tab.ReceivedAsync()).Select(e => (long?)e.Sequence));
        }

        Assert.Single(tabs.All.Where(tab => tab != alone), tab => tab.Polls.Any(IsWaiting));
        Assert.Contains(leader, tabs.All.Where(tab => tab.Polls.Any(IsWaiting)));
    }

    [Fact]
    public async Task Tabs_with_share_tabs_false_keep_their_own_polls()
    {
        await using var host = await TestHost.StartAsync();
        var settings = Sharing("ann", "poll");
        settings["shareTabs"] = "false";
        await using var tabs = await Tabs.OpenAsync(browser, host, "ann", 2, settings);
        await BrowserWait.UntilAsync(() => tabs.All.All(tab => tab.Polls.Any(IsWaiting)), "each tab to poll on its own");
        await BrowserWait.UntilAsync(() => host.Dispatcher.WaitingPollCount == 2, "two polls to wait");
    }

    private static Dictionary<string, string?> Sharing(string shareAs, string transport) => new() { ["shareAs"] = shareAs, ["transport"] = transport };

    // A GET of the updates URL that waits at the server (a poll or a stream), not a tab's look with timeout=0.
    private static bool IsWaiting(IRequest request) =>
        !QueryHelpers.ParseQuery(new Uri(request.Url).Query).TryGetValue("timeout", out var timeout) || timeout.ToString() != "0";

    /// <summary>Tabs of one browser context, the first owning it.</summary>
    private sealed class Tabs : IAsyncDisposable
    {
        private readonly List<BrowserPage> _tabs = [];

        public IReadOnlyList<BrowserPage> All => _tabs;

        public static Task<Tabs> OpenAsync(BrowserFixture browser, TestHost host, string user, int count, Dictionary<string, string?> settings) =>
            OpenAsync(() => browser.OpenAsync(host), user, count, settings);

        /// <summary>Tabs of one window of <paramref name="lifecycle"/>, opened in order: the last one is in front.</summary>
        public static Task<Tabs> OpenAsync(LifecycleBrowser lifecycle, string user, int count, Dictionary<string, string?> settings) =>
            OpenAsync(lifecycle.NewTabAsync, user, count, settings);

        private static async Task<Tabs> OpenAsync(Func<Task<BrowserPage>> open, string user, int count, Dictionary<string, string?> settings)
        {
            var tabs = new Tabs();
            try
            {
                var first = await open();
                tabs._tabs.Add(first);
                await first.OpenAsync(user, more: settings);
                for (var i = 1; i < count; i++)
                {
                    await tabs.AddAsync(user, settings);
                }
            }
            catch
            {
                await tabs.DisposeAsync();
                throw;
            }

            return tabs;
        }

        public async Task<BrowserPage> AddAsync(string user, Dictionary<string, string?> settings, string? initScript = null, string? postBetween = null)
        {
            var tab = await _tabs[0].NewTabAsync();
            _tabs.Add(tab);
            if (initScript is not null)
            {
                await tab.Page.AddInitScriptAsync(initScript).Bounded();
            }

            await tab.OpenAsync(user, more: settings, postBetween: postBetween);
            return tab;
        }

        /// <summary>Waits until exactly one tab holds the connection, and returns it.</summary>
        public async Task<BrowserPage> LeaderAsync()
        {
            await BrowserWait.UntilAsync(() => _tabs.Count(tab => tab.Polls.Any(IsWaiting)) == 1, "one tab to hold the connection");
            return _tabs.Single(tab => tab.Polls.Any(IsWaiting));
        }

        public async ValueTask DisposeAsync()
        {
            // The other tabs first: the first one closes the context.
            for (var i = _tabs.Count - 1; i >= 0; i--)
            {
                try
                {
                    await _tabs[i].DisposeAsync();
                }
                catch (PlaywrightException)
                {
                    // Already closed by the test.
                }
            }
        }
    }
}
