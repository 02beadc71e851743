using System.Reflection.Metadata;
using System.Text;

namespace Comety.Tests.Packaging.Infrastructure;

/// <summary>Reads what a debugger takes from a portable PDB to fetch the sources.</summary>
internal static class PortablePdb
{
    // The kind of the module's custom debug information that holds the Source Link JSON (Portable PDB specification).
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    /// <summary>The PDB's Source Link JSON, or null when it has none.</summary>
    public static string? ReadSourceLink(byte[] pdb)
    {
        using var provider = MetadataReaderProvider.FromPortablePdbStream(new MemoryStream(pdb));
        var reader = provider.GetMetadataReader();
        foreach (var handle in reader.GetCustomDebugInformation(EntityHandle.ModuleDefinition))
        {
            var information = reader.GetCustomDebugInformation(handle);
            if (reader.GetGuid(information.Kind) == SourceLinkKind)
            {
                return Encoding.UTF8.GetString(reader.GetBlobBytes(information.Value));
            }
        }

        return null;
    }
}
