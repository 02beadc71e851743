using System.Text.RegularExpressions;

namespace Comety.Tests.Packaging.Infrastructure;

/// <summary>
/// A fenced code block of the README that an HTML comment marks for the application the tests
/// build from it, <c>&lt;!-- readme-app: TARGET --&gt;</c> on the line right before the fence.
/// The comment is invisible where the README is rendered, and says what a reader does with the block:
/// <list type="bullet">
/// <item><c>run</c>: commands to type, in the folder where the previous ones left off (the first
/// ones in the folder that holds <c>comety/</c> and <c>MyApp/</c>);</item>
/// <item>a path such as <c>Program.cs</c>: that file of the application, relative to <c>MyApp/</c>;
/// the whole file when the application has none yet, or else lines to add to it, placed as
/// <see cref="SnippetMerge"/> reads them;</item>
/// <item><c>#name</c>: lines that belong inside code the application writes itself (a sign-in
/// action, a controller), which the tests' stand-in for that code takes in by that name.</item>
/// </list>
/// </summary>
internal sealed partial record ReadmeSnippet(string Target, string Language, IReadOnlyList<string> Lines, int LineNumber)
{
    public const string RunTarget = "run";

    /// <summary>Whether the block is commands to run.</summary>
    public bool IsRun => Target == RunTarget;

    /// <summary>Whether the block belongs inside the application's own code, and not in a file of its own.</summary>
    public bool IsSlot => Target.StartsWith('#');

    /// <summary>The name the application's own code takes the block in by, without the <c>#</c>.</summary>
    public string SlotName => IsSlot ? Target[1..] : throw new InvalidOperationException($"{this} is not meant for the application's own code.");

    public string Text => string.Join('\n', Lines) + "\n";

    /// <summary>
    /// The marked blocks of the README section under <paramref name="heading"/> (up to the next
    /// heading of the same level), in order. Fails when a block of that section is not marked, so
    /// that no snippet a reader follows goes untried.
    /// </summary>
    public static IReadOnlyList<ReadmeSnippet> ReadSection(string readmePath, string heading)
    {
        var lines = File.ReadAllLines(readmePath);
        var level = heading.TakeWhile(c => c == '#').Count();
        var start = Array.IndexOf(lines, heading);
        Assert.True(start >= 0, $"{readmePath} has no line '{heading}'.");

        var snippets = new List<ReadmeSnippet>();
        for (var i = start + 1; i < lines.Length; i++)
        {
            if (Heading().Match(lines[i]) is { Success: true } next && next.Groups["level"].Length <= level)
            {
                break;
            }

            if (Fence().Match(lines[i]) is not { Success: true } fence)
            {
                continue;
            }

            var opening = i;
            var body = new List<string>();
            for (i++; i < lines.Length && lines[i] != fence.Groups["fence"].Value; i++)
            {
                body.Add(lines[i]);
            }

            Assert.True(i < lines.Length, $"The code block at {readmePath}:{opening + 1} never ends.");
            var marker = opening > 0 ? Marker().Match(lines[opening - 1]) : Match.Empty;
            Assert.True(
                marker.Success,
                $"The code block at {readmePath}:{opening + 1} (in '{heading}') has no '<!-- readme-app: ... -->' line before it, so the tests that follow the README would skip it. Mark it (see ReadmeSnippet.cs).");
            snippets.Add(new ReadmeSnippet(marker.Groups["target"].Value, fence.Groups["language"].Value, body, opening + 2));
        }

        return snippets;
    }

    public override string ToString() => $"the README's {Language} block for '{Target}' (from line {LineNumber})";

    [GeneratedRegex(@"^(?<level>#+) ")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^(?<fence>```+)(?<language>[\w-]*)\s*$")]
    private static partial Regex Fence();

    [GeneratedRegex(@"^<!-- readme-app: (?<target>\S+) -->$")]
    private static partial Regex Marker();
}
