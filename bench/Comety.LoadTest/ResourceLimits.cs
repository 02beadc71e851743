using System.Globalization;
using System.Runtime.InteropServices;

namespace Comety.LoadTest;

/// <summary>What the clients need of the system: open files, and ephemeral ports per source address.</summary>
internal static partial class ResourceLimits
{
    private const int RlimitNofile = 7;

    /// <summary>Each client is one socket here and one in the server; this much more for everything else.</summary>
    private const int FileDescriptorMargin = 1024;

    /// <summary>
    /// Raises this process's open-file limit (the servers it starts inherit it) to what
    /// <paramref name="clients"/> clients need: to the hard limit, and beyond it where the process
    /// may (CAP_SYS_RESOURCE). False, with the reason and the remedy written, when the limit stays too low.
    /// </summary>
    public static bool RaiseFileDescriptorLimit(int clients, TextWriter log)
    {
        if (!OperatingSystem.IsLinux() || GetRLimit(RlimitNofile, out var limit) != 0)
        {
            return true;
        }

        var needed = (ulong)clients + FileDescriptorMargin;
        var wanted = limit with { Current = Math.Max(limit.Maximum, needed), Maximum = Math.Max(limit.Maximum, needed) };
        if (limit.Current < wanted.Current && SetRLimit(RlimitNofile, in wanted) == 0)
        {
            log.WriteLine($"Open-file limit raised from {limit.Current} (hard {limit.Maximum}) to {wanted.Current} (this process and the servers it starts).");
            limit = wanted;
        }
        else if (limit.Current < limit.Maximum)
        {
            var raised = limit with { Current = limit.Maximum };
            if (SetRLimit(RlimitNofile, in raised) == 0)
            {
                log.WriteLine($"Open-file limit raised from {limit.Current} to {limit.Maximum} (this process and the servers it starts).");
                limit = raised;
            }
        }

        if (limit.Current >= needed)
        {
            return true;
        }

        log.WriteLine(
            $"The open-file limit is {limit.Current} (hard {limit.Maximum}) and cannot be raised from here; {clients:N0} clients need {needed:N0} "
            + "in this process and in each server. Raise the hard limit where this runs, for example `ulimit -Hn 65536 && ulimit -n 65536` "
            + "in a root shell, `--ulimit nofile=65536:65536` for a container, or LimitNOFILE=65536 for a systemd unit.");
        return false;
    }

    /// <summary>
    /// Whether the ephemeral ports (<c>ip_local_port_range</c>) leave room for <paramref name="clients"/>
    /// connections to one server from the given source addresses; false, with the remedy written, when not.
    /// </summary>
    public static bool CheckEphemeralPorts(int clients, SourceAddresses sources, TextWriter log)
    {
        const string RangeFile = "/proc/sys/net/ipv4/ip_local_port_range";
        if (!File.Exists(RangeFile))
        {
            return true;
        }

        var range = File.ReadAllText(RangeFile).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        var ports = int.Parse(range[1], CultureInfo.InvariantCulture) - int.Parse(range[0], CultureInfo.InvariantCulture) + 1;
        var perAddress = (clients + Math.Max(1, sources.Count) - 1) / Math.Max(1, sources.Count);

        // The fleets' shared HTTP clients (registration, sends) hold a few hundred connections more.
        if (perAddress + 500 <= ports)
        {
            return true;
        }

        log.WriteLine(
            $"{clients:N0} clients from {Math.Max(1, sources.Count)} source address(es) need {perAddress:N0} ephemeral ports per address; "
            + $"{RangeFile} gives {ports:N0}. Spread them wider: --source-addresses {(clients / (ports - 500)) + 1} or more.");
        return false;
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct RLimit(ulong Current, ulong Maximum);

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);
}
