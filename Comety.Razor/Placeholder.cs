namespace Comety;

/// <summary>Marks the Comety.Razor assembly until the web part lands.</summary>
internal static class AssemblyMarker
{
}
