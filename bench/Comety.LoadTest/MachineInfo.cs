using System.Globalization;
using System.Runtime.InteropServices;

namespace Comety.LoadTest;

/// <summary>A one-line description of this machine for the results: CPU, cores, memory, system, .NET.</summary>
internal static class MachineInfo
{
    public static string Describe()
    {
        var cpu = FirstValue("/proc/cpuinfo", "model name", ':') ?? RuntimeInformation.ProcessArchitecture.ToString();
        var memory = FirstValue("/proc/meminfo", "MemTotal", ':') is { } total
            && long.TryParse(total.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture, out var kilobytes)
                ? string.Create(CultureInfo.InvariantCulture, $"{kilobytes / 1048576.0:0} GiB")
                : "memory unknown";
        var system = FirstValue("/etc/os-release", "PRETTY_NAME", '=')?.Trim('"') ?? RuntimeInformation.OSDescription;
        return string.Create(CultureInfo.InvariantCulture,
            $"{cpu}, {Environment.ProcessorCount} cores, {memory}, {system}, .NET {Environment.Version}");
    }

    private static string? FirstValue(string file, string key, char separator)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        foreach (var line in File.ReadLines(file))
        {
            var at = line.IndexOf(separator, StringComparison.Ordinal);
            if (at > 0 && line[..at].Trim() == key)
            {
                return line[(at + 1)..].Trim();
            }
        }

        return null;
    }
}
