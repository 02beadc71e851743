using System.Reflection;
using System.Runtime.Versioning;

namespace Comety.Tests.Infrastructure;

/// <summary>
/// Where the projects the tests run as processes of their own (the sample, the load test) put
/// their build: the same Configuration and framework as the tests, which build them first.
/// </summary>
internal static class BuildOutput
{
    /// <summary>The folder that holds Comety.sln, above the test assembly's bin folder.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The path of a project's main assembly: <c>&lt;project folder&gt;/bin/&lt;Configuration&gt;/&lt;framework&gt;/&lt;name&gt;.dll</c>.</summary>
    /// <param name="projectFolder">The project's folder, relative to the repository root.</param>
    public static string AssemblyPath(string projectFolder) =>
        Path.Combine(RepositoryRoot, projectFolder, "bin", Configuration(), TargetFrameworkFolder(), Path.GetFileName(projectFolder) + ".dll");

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Comety.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above '{AppContext.BaseDirectory}' holds Comety.sln.");
    }

    private static string Configuration() =>
        typeof(BuildOutput).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration
        ?? throw new InvalidOperationException("The test assembly does not say which Configuration built it.");

    // "net10.0" for ".NETCoreApp,Version=v10.0": every project targets the tests' framework (Directory.Build.props).
    private static string TargetFrameworkFolder()
    {
        var framework = typeof(BuildOutput).Assembly.GetCustomAttribute<TargetFrameworkAttribute>()
            ?? throw new InvalidOperationException("The test assembly does not say which framework it targets.");
        var version = new FrameworkName(framework.FrameworkName).Version;
        return $"net{version.Major}.{version.Minor}";
    }
}
