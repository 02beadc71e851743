using System.IO.Compression;
using System.Xml.Linq;

namespace Comety.Tests.Packaging.Infrastructure;

/// <summary>A <c>.nupkg</c> opened as the zip file it is: the files it delivers and its nuspec.</summary>
internal sealed class NuGetPackage : IDisposable
{
    private readonly ZipArchive _zip;

    private NuGetPackage(ZipArchive zip, XElement metadata)
    {
        _zip = zip;
        Metadata = metadata;
    }

    /// <summary>The paths of the files the package delivers, without the parts of the zip that only describe it.</summary>
    public IReadOnlyList<string> Files => _zip.Entries
        .Select(entry => entry.FullName)
        .Where(name => !name.StartsWith("_rels/", StringComparison.Ordinal)
            && !name.StartsWith("package/", StringComparison.Ordinal)
            && name != "[Content_Types].xml"
            && !name.EndsWith(".nuspec", StringComparison.Ordinal))
        .Order(StringComparer.Ordinal)
        .ToList();

    /// <summary>The nuspec's <c>metadata</c> element.</summary>
    public XElement Metadata { get; }

    /// <summary>The package's dependencies: id, version and target framework of each.</summary>
    public IReadOnlyList<(string Id, string Version, string TargetFramework)> Dependencies =>
        Metadata.Elements().Where(e => e.Name.LocalName == "dependencies")
            .Elements().Where(e => e.Name.LocalName == "group")
            .SelectMany(group => group.Elements().Where(e => e.Name.LocalName == "dependency")
                .Select(dependency => ((string)dependency.Attribute("id")!, (string)dependency.Attribute("version")!, (string)group.Attribute("targetFramework")!)))
            .ToList();

    public static NuGetPackage Open(string path)
    {
        Assert.True(File.Exists(path), $"No package at {path}.");
        var zip = ZipFile.OpenRead(path);
        try
        {
            var nuspec = Assert.Single(zip.Entries, entry => !entry.FullName.Contains('/', StringComparison.Ordinal) && entry.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
            using var stream = nuspec.Open();
            var metadata = XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            return new NuGetPackage(zip, metadata);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    /// <summary>The element of the nuspec's metadata with this name, or null.</summary>
    public XElement? Element(string name) => Metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name);

    public string ReadText(string path)
    {
        var entry = _zip.GetEntry(path) ?? throw new FileNotFoundException($"The package has no {path}.", path);
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd();
    }

    public byte[] ReadBytes(string path)
    {
        var entry = _zip.GetEntry(path) ?? throw new FileNotFoundException($"The package has no {path}.", path);
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    public void Dispose() => _zip.Dispose();
}
