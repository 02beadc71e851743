using Comety.Tests.Razor.Infrastructure;

namespace Comety.Tests.Razor;

/// <summary>
/// <c>share-as</c> (the view component's <c>shareAs</c>): the page gets an opaque tag for its tabs to
/// share one connection by, never the user id, the same for the same user and URL only.
/// </summary>
public sealed class TabSharingTagTests : IDisposable
{
    private readonly ScriptHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Share_as_renders_an_opaque_tag_equal_for_the_same_user_and_url_and_different_for_another_user_or_url()
    {
        var ann = await ShareKeyAsync("ann@example.com", "/chat/updates");
        var annAgain = await ShareKeyAsync("ann@example.com", "/chat/updates");
        var bob = await ShareKeyAsync("bob@example.com", "/chat/updates");
        var annElsewhere = await ShareKeyAsync("ann@example.com", "/other/updates");

        Assert.Equal(ann, annAgain);
        Assert.NotEqual(ann, bob);
        Assert.NotEqual(ann, annElsewhere);
        Assert.DoesNotContain("ann", ann, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("example", ann, StringComparison.OrdinalIgnoreCase);
        Assert.Matches("^[A-Za-z0-9_-]{22}$", ann);
    }

    [Fact]
    public async Task Without_share_as_or_with_share_tabs_false_the_page_gets_no_tag_and_tabs_do_not_share()
    {
        var without = await _harness.RenderAsync(tag => tag.Url = "/chat/updates");
        var turnedOff = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.ShareAs = "ann";
            tag.ShareTabs = false;
        });

        Assert.False(without.Settings.TryGetProperty("shareKey", out _));
        Assert.False(without.Settings.TryGetProperty("shareTabs", out _));
        Assert.False(turnedOff.Settings.TryGetProperty("shareKey", out _));
        Assert.False(turnedOff.Settings.GetProperty("shareTabs").GetBoolean());
        Assert.DoesNotContain("ann", turnedOff.CreateScript.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_view_component_renders_the_same_tag_as_the_tag_helper()
    {
        var fromTagHelper = await _harness.RenderAsync(tag =>
        {
            tag.Url = "/chat/updates";
            tag.ShareAs = "ann";
        });
        var fromViewComponent = await _harness.InvokeAsync(component => component.InvokeAsync(url: "/chat/updates", shareAs: "ann"));
        var turnedOff = await _harness.InvokeAsync(component => component.InvokeAsync(url: "/chat/updates", shareAs: "ann", shareTabs: false));

        Assert.Equal(fromTagHelper.Settings.GetProperty("shareKey").GetString(), fromViewComponent.Settings.GetProperty("shareKey").GetString());
        Assert.False(turnedOff.Settings.TryGetProperty("shareKey", out _));
    }

    private async Task<string> ShareKeyAsync(string user, string url)
    {
        var rendered = await _harness.RenderAsync(tag =>
        {
            tag.Url = url;
            tag.ShareAs = user;
        });
        Assert.DoesNotContain(user, rendered.Html, StringComparison.Ordinal);
        return rendered.Settings.GetProperty("shareKey").GetString()!;
    }
}
