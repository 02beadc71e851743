using System.Security.Cryptography;
using Microsoft.AspNetCore.WebUtilities;

namespace Comety.Tests.Infrastructure;

/// <summary>
/// The content hash that <c>asp-append-version</c> (MVC's file version provider) puts in a script's
/// URL as <c>?v=</c>: the SHA-256 of the file, base64url-encoded; computed here independently.
/// </summary>
internal static class ScriptVersion
{
    /// <summary>The <c>v</c> of comety.js as the repository holds it (the file the tests' host and the package serve).</summary>
    public static string CometyJs { get; } = Of(File.ReadAllBytes(Path.Combine(BuildOutput.RepositoryRoot, "Comety.Razor", "wwwroot", "comety.js")));

    public static string Of(byte[] content) => WebEncoders.Base64UrlEncode(SHA256.HashData(content));

    /// <summary>The <c>v</c> of a rendered script URL, or null when it has none.</summary>
    public static string? In(string src) =>
        QueryHelpers.ParseQuery(new Uri(new Uri("http://localhost/"), src).Query).TryGetValue("v", out var v) ? v.ToString() : null;
}
