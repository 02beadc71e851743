namespace Comety.LoadTest;

/// <summary>What a load-test client needs of an HTTP/1.1 response head.</summary>
/// <param name="Status">The status code.</param>
/// <param name="EventStream">Whether <c>Content-Type</c> is <c>text/event-stream</c>.</param>
/// <param name="Chunked">Whether the body comes in chunks (<c>Transfer-Encoding: chunked</c>).</param>
internal readonly record struct Http1Head(int Status, bool EventStream, bool Chunked);
