using System.Diagnostics;
using Comety.Tests.Infrastructure;
using Comety.Tests.Sample.Infrastructure;
using Xunit.Abstractions;

namespace Comety.Tests.Sample;

/// <summary>
/// Two people chat in Chromium on the sample's cluster (two instances on a PostgreSQL server of
/// the test's own, the round-robin load balancer in front, no affinity: each page's polls, sends
/// and loads go to both instances in turn) while one instance is killed with SIGKILL and started
/// again: both pages show every line once, in order.
/// </summary>
[Collection(BrowserSuite.Name)]
[Trait("Category", "Sample")]
public sealed class ClusterBrowserTests(BrowserFixture browser, ITestOutputHelper output)
{
    // How long a line may take to show while an instance is down: the pages' failed polls back off.
    private static readonly TimeSpan OutageWait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Two_people_chat_through_the_load_balancer_while_an_instance_is_killed_and_restarted_and_see_every_line_once_in_order()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync();
        await using var cluster = await ChatCluster.StartAsync(database, count: 2);
        await using var ann = await ChatPage.OpenAsync(browser, cluster.Proxy);
        await using var bob = await ChatPage.OpenAsync(browser, cluster.Proxy);
        var room = await ann.CreateRoomAsync(ChatPage.NewRoomName("Cluster"));
        await ann.JoinAsync(room, "Ann");
        await bob.JoinAsync(room, "Bob");
        await ann.WaitForNoticeAsync("Bob joined");

        var said = new List<string>();
        async Task TalkAsync(string phase, int count, TimeSpan wait)
        {
            for (var i = 1; i <= count; i++)
            {
                var (speaker, name, listener) = i % 2 == 1 ? (ann, "Ann", bob) : (bob, "Bob", ann);
                var text = $"{phase} {i} from {name}";
                var clock = Stopwatch.StartNew();
                var (_, tries) = await speaker.SayThroughOutagesAsync(text);
                await listener.WaitForMessageAsync(name, text, wait);
                said.Add($"{name}: {text}");
                output.WriteLine($"'{text}': taken after {tries} tr{(tries == 1 ? "y" : "ies")}, shown to the other page {clock.Elapsed.TotalMilliseconds:F0} ms after the first click");
            }
        }

        await TalkAsync("before", 4, ChatPage.MessageWait);

        var outage = Stopwatch.StartNew();
        await cluster.KillAsync(0);
        output.WriteLine("instance 0 killed (SIGKILL)");
        await TalkAsync("during", 4, OutageWait);
        output.WriteLine($"the pages talked on {outage.Elapsed.TotalSeconds:F1} s after the kill");

        await cluster.RestartAsync(0);
        output.WriteLine($"instance 0 listening again {outage.Elapsed.TotalSeconds:F1} s after the kill");
        // The load balancer probes it twice a second: from then on both instances serve again.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await TalkAsync("after", 6, OutageWait);

        foreach (var (page, who) in new[] { (ann, "Ann"), (bob, "Bob") })
        {
            await page.WaitForMessageAsync("Bob", "after 6 from Bob", OutageWait);
            var lines = await page.ReadLinesAsync();
            var messages = lines.Where(static l => l.Kind == "message").Select(static l => $"{l.Name}: {l.Text}").ToList();
            Assert.True(said.SequenceEqual(messages), $"{who}'s page shows{Environment.NewLine}{string.Join(Environment.NewLine, messages)}{Environment.NewLine}{await page.DescribeAsync()}{Environment.NewLine}{cluster.LastOutput(30)}");
            Assert.Equal(lines.Count, lines.Select(static l => l.Sequence).Distinct().Count());
            Assert.True(lines.Zip(lines.Skip(1)).All(static p => p.First.Sequence < p.Second.Sequence), $"{who}'s lines are out of order.");
            Assert.Empty(page.Dialogs);
        }
    }
}
