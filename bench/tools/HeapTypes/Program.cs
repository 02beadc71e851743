using System.Globalization;
using Microsoft.Diagnostics.Runtime;

// Attaches to a running .NET process (suspending it while it reads), walks its managed heap and
// prints the bytes and count of each type's objects, largest first. With --per N, also bytes per
// N (the load test's waiting clients); with --min-count C, only types with at least C objects
// (C = N lists what every client holds once or more).
//
// usage: HeapTypes PID [--top 60] [--per N] [--min-count C]
// Read right after the load test's forced collection, or dead objects count too.
if (args.Length == 0 || !int.TryParse(args[0], CultureInfo.InvariantCulture, out var pid))
{
    Console.Error.WriteLine("usage: HeapTypes PID [--top 60] [--per N] [--min-count C]");
    return 2;
}

var top = 60;
var per = 0;
var minCount = 0;
for (var i = 1; i + 1 < args.Length; i += 2)
{
    var value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--top": top = value; break;
        case "--per": per = value; break;
        case "--min-count": minCount = value; break;
        default:
            Console.Error.WriteLine($"unknown option {args[i]}");
            return 2;
    }
}

var types = new Dictionary<string, (long Count, long Bytes)>(StringComparer.Ordinal);
long total = 0;
using (var target = DataTarget.AttachToProcess(pid, suspend: true))
{
    using var runtime = target.ClrVersions[0].CreateRuntime();
    foreach (var obj in runtime.Heap.EnumerateObjects())
    {
        if (!obj.IsValid || obj.IsFree)
        {
            continue;
        }

        var name = obj.Type?.Name ?? "(unknown type)";
        var size = (long)obj.Size;
        total += size;
        types[name] = types.TryGetValue(name, out var sum) ? (sum.Count + 1, sum.Bytes + size) : (1, size);
    }
}

Console.WriteLine(FormattableString.Invariant($"{total / 1048576.0:0.0} MB in {types.Values.Sum(t => t.Count):N0} objects"));
var shown = types.Where(t => t.Value.Count >= minCount).OrderByDescending(t => t.Value.Bytes).Take(top).ToList();
Console.WriteLine(per > 0 ? "      bytes     count  bytes/N  type" : "      bytes     count  type");
foreach (var (name, (count, bytes)) in shown)
{
    var perN = per > 0 ? FormattableString.Invariant($"{bytes / (double)per,7:0}  ") : string.Empty;
    Console.WriteLine(FormattableString.Invariant($"{bytes,11:N0} {count,9:N0}  {perN}{name}"));
}

if (per > 0)
{
    Console.WriteLine(FormattableString.Invariant($"listed: {shown.Sum(t => t.Value.Bytes) / (double)per:0} bytes per {per:N0}"));
}

return 0;
