namespace Comety.Tests.Packaging.Infrastructure;

/// <summary>
/// Adds a README block to a file the application has already, the way a reader does: the block's
/// lines that the file has too (compared without their indentation) are landmarks, and the other
/// lines are new. A line of only <c>…</c> (or <c>// …</c>, <c>@* … *@</c>, <c>&lt;!-- … --&gt;</c>)
/// stands for the file's lines in between.
/// </summary>
/// <remarks>
/// New lines go right after the landmark before them; new lines with no landmark before them
/// (after a <c>…</c>, or at the block's start) go right before the landmark after them, and at the
/// top of the file when a <c>…</c> follows them instead. Anything else fails, so that a block the
/// reader could place two ways is found: new lines between a <c>…</c> and the block's end, a block
/// with no landmark, landmarks out of the file's order, and two landmarks shown next to each other
/// that the file has apart. Only a line with a letter or digit can be a landmark: a lone brace or
/// a blank line the block adds is new.
/// </remarks>
internal static class SnippetMerge
{
    private static readonly string[] Ellipses = ["…", "// …", "@* … *@", "<!-- … -->"];

    public static string Apply(string fileText, IReadOnlyList<string> block, string what)
    {
        var file = fileText.Replace("\r\n", "\n", StringComparison.Ordinal).TrimStart('\uFEFF').Split('\n').ToList();
        var cursor = 0;           // the file's lines before it are behind the last landmark
        string? lastLandmark = null;
        var skipping = false;     // a … since the last landmark
        var pending = new List<string>();

        foreach (var line in block)
        {
            if (Ellipses.Contains(line.Trim()))
            {
                // New lines before a … go after the landmark before them, or at the top.
                file.InsertRange(cursor, pending);
                cursor += pending.Count;
                pending.Clear();
                skipping = true;
                continue;
            }

            var landmark = line.Any(char.IsLetterOrDigit) ? FindFrom(file, cursor, line) : -1;
            if (landmark < 0)
            {
                Assert.True(
                    !line.Any(char.IsLetterOrDigit) || FindFrom(file, 0, line) < 0,
                    $"{what} shows '{line.Trim()}' after '{lastLandmark}', but the file has it before:\n{fileText}");
                pending.Add(line);
                continue;
            }

            var adjacent = lastLandmark is not null && !skipping;
            if (adjacent && file.Skip(cursor).Take(landmark - cursor).Any(static l => l.Trim().Length > 0))
            {
                Assert.Fail($"{what} shows '{line.Trim()}' right after '{lastLandmark}', but the file has other lines between them:\n{fileText}");
            }

            // After the landmark before them, or before this one when there is none (or a … between).
            file.InsertRange(adjacent ? cursor : landmark, pending);
            cursor = landmark + pending.Count + 1;
            pending.Clear();
            lastLandmark = line.Trim();
            skipping = false;
        }

        Assert.True(lastLandmark is not null, $"{what} has no line the file has too, so nothing says where it goes:\n{fileText}");
        Assert.True(
            pending.Count == 0 || !skipping,
            $"{what} ends with new lines after a '…', so nothing says where they go: '{string.Join(" / ", pending.Select(static l => l.Trim()))}'.");
        file.InsertRange(cursor, pending);
        return string.Join('\n', file);
    }

    private static int FindFrom(List<string> file, int start, string line)
    {
        var wanted = line.Trim();
        for (var i = start; i < file.Count; i++)
        {
            if (file[i].Trim() == wanted)
            {
                return i;
            }
        }

        return -1;
    }
}
