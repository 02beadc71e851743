using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.FileProviders;

namespace Comety.Tests.Razor.Infrastructure;

/// <summary>A folder of files laid over an application's web root, deleted when disposed.</summary>
internal sealed class TemporaryWebRoot : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("comety-webroot-").FullName;

    public void Write(string path, string content)
    {
        var file = Path.Combine(_root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, content);
    }

    /// <summary>Makes the application's web root find these files first (set before the application starts).</summary>
    public void Serve(IWebHostEnvironment environment) =>
        environment.WebRootFileProvider = new CompositeFileProvider(new PhysicalFileProvider(_root), environment.WebRootFileProvider);

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
