using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace Comety.Internal;

/// <summary>Checks the names a page author gives the script's variables: plain JavaScript identifiers only.</summary>
internal static partial class JavaScriptIdentifier
{
    private static readonly FrozenSet<string> Reserved = new[]
    {
        "await", "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do",
        "else", "enum", "export", "extends", "false", "finally", "for", "function", "if", "implements", "import",
        "in", "instanceof", "interface", "let", "new", "null", "package", "private", "protected", "public",
        "return", "static", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while",
        "with", "yield", "arguments", "eval", "undefined", "NaN", "Infinity",
    }.ToFrozenSet(StringComparer.Ordinal);

    public static bool IsValid(string? name) =>
        name is { Length: > 0 and <= 100 } && Pattern().IsMatch(name) && !Reserved.Contains(name);

    public static string Validate(string? name, string attribute) =>
        IsValid(name)
            ? name!
            : throw new ArgumentException($"'{name}' is not a valid JavaScript identifier for {attribute}: use letters, digits, '_' and '$', not starting with a digit, and no reserved word.", attribute);

    [GeneratedRegex("^[A-Za-z_$][A-Za-z0-9_$]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
