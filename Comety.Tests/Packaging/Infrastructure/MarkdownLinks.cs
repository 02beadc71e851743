using System.Text.RegularExpressions;

namespace Comety.Tests.Packaging.Infrastructure;

/// <summary>The targets of a Markdown text's inline links and images, <c>[text](target)</c>, outside fenced code.</summary>
internal static partial class MarkdownLinks
{
    public static IReadOnlyList<string> Targets(string markdown)
    {
        var targets = new List<string>();
        var inFence = false;
        foreach (var line in markdown.Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
            }
            else if (!inFence)
            {
                targets.AddRange(LinkTarget().Matches(line).Select(match => match.Groups["target"].Value));
            }
        }

        return targets;
    }

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)")]
    private static partial Regex LinkTarget();
}
