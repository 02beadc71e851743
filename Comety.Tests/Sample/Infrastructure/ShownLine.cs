namespace Comety.Tests.Sample.Infrastructure;

/// <summary>A line of a room page's conversation as the page shows it.</summary>
/// <param name="Sequence">The line's <c>data-seq</c>: the Comety sequence number of its event.</param>
/// <param name="Kind"><c>message</c>, <c>join</c> or <c>leave</c>.</param>
/// <param name="Name">Who spoke, for a message.</param>
/// <param name="Text">What was said, for a message: the text content of <c>.text</c>.</param>
/// <param name="Notice">The notice of a join or leave line, such as <c>Ann joined</c>.</param>
/// <param name="Time">The time the line shows.</param>
/// <param name="Content">The line's whole text, white space collapsed.</param>
public sealed record ShownLine(long Sequence, string Kind, string? Name, string? Text, string? Notice, string? Time, string Content)
{
    public override string ToString() => $"#{Sequence} {Content}";
}
