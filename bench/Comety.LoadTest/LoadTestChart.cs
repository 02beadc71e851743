using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace Comety.LoadTest;

/// <summary>
/// The <c>chart</c> command: draws the latest run of <c>loadtest.jsonl</c> as an SVG of two panels,
/// broadcast p99 and server CPU per delivered event against the number of clients, one line per
/// implementation and transport. The latest run is the latest one with rows at two sizes or more
/// (the comparison); rows of later runs at sizes it does not have (the 20,000-client case, run
/// separately) are added to it. The SVG is written by hand: no plotting package.
/// </summary>
internal static class LoadTestChart
{
    /// <summary>A row with no <c>run</c> (written before the field existed) starts a new run after this much silence.</summary>
    private static readonly TimeSpan LegacyRunGap = TimeSpan.FromMinutes(10);

    private const int Width = 1040;
    private const int Height = 540;
    private const int PlotTop = 100;
    private const int PlotWidth = 390;
    private const int PlotHeight = 320;
    private static readonly int[] PlotLefts = [90, 600];

    /// <summary>Series in legend order, with the colour, dash and marker of each.</summary>
    private static readonly Series[] Styles =
    [
        new("Comety", "Streaming", "#c0392b", null, Circle: true),
        new("Comety", "LongPolling", "#e67e22", null, Circle: true),
        new("SignalR", "WebSockets", "#1f5fa8", "7 4", Circle: false),
        new("SignalR", "LongPolling", "#3a9a4a", "7 4", Circle: false),
    ];

    /// <summary><c>bench/results</c> of the source tree this program was built from.</summary>
    public static string ResultsDirectory => Path.Combine(
        typeof(LoadTestChart).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BenchDirectory").Value!,
        "results");

    public static async Task<int> RunAsync(string input, string output, TextWriter log)
    {
        if (!File.Exists(input))
        {
            await log.WriteLineAsync($"No {input}: run the load test with --out first.");
            return 2;
        }

        var rows = new List<ChartRow>();
        var number = 0;
        foreach (var line in await File.ReadAllLinesAsync(input))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var row = JsonSerializer.Deserialize<ChartRow>(line, JsonOptions)
                ?? throw new InvalidDataException($"{input}:{number}: not a row.");
            rows.Add(row);
        }

        var chosen = Choose(rows);
        if (chosen.Count == 0)
        {
            await log.WriteLineAsync($"{input} has no run to draw.");
            return 2;
        }

        var svg = Draw(chosen);
        await File.WriteAllTextAsync(output, svg);
        await log.WriteLineAsync($"{output}: {chosen.Count} rows, N = {string.Join(", ", chosen.Select(r => r.Clients).Distinct().Order().Select(n => n.ToString("N0", CultureInfo.InvariantCulture)))}, run of {chosen[0].RunKey}.");
        return 0;
    }

    /// <summary>The latest comparison run, plus later rows at sizes it lacks; the latest row wins for a series and size.</summary>
    private static List<ChartRow> Choose(List<ChartRow> rows)
    {
        // Runs in file order. Rows written before "run" existed: a run ends after a long gap, or
        // when a series and size comes again, or when the size goes down (each run goes up in N).
        var runs = new List<List<ChartRow>>();
        foreach (var row in rows)
        {
            var current = runs.Count == 0 ? null : runs[^1];
            bool sameRun;
            if (current is null)
            {
                sameRun = false;
            }
            else if (row.Run is not null || current[^1].Run is not null)
            {
                sameRun = row.Run == current[^1].Run;
            }
            else
            {
                var last = current[^1];
                sameRun = row.Date - last.Date < LegacyRunGap
                    && row.Clients >= last.Clients
                    && !current.Any(r => r.Key == row.Key);
            }

            if (sameRun)
            {
                current!.Add(row with { RunKey = current[0].RunKey });
            }
            else
            {
                runs.Add([row with { RunKey = row.Run ?? row.Date.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) }]);
            }
        }

        var comparison = runs.FindLastIndex(run => run.Select(r => r.Clients).Distinct().Count() >= 2);
        if (comparison < 0)
        {
            return runs.Count == 0 ? [] : runs[^1];
        }

        var sizes = runs[comparison].Select(r => r.Clients).ToHashSet();
        var chosen = new Dictionary<(string, int), ChartRow>();
        foreach (var row in runs[comparison])
        {
            chosen[row.Key] = row;
        }

        foreach (var row in runs.Skip(comparison + 1).SelectMany(run => run).Where(r => !sizes.Contains(r.Clients)))
        {
            chosen[row.Key] = row;
        }

        return [.. chosen.Values.OrderBy(r => r.Date)];
    }

    private static string Draw(List<ChartRow> rows)
    {
        var svg = new StringBuilder();
        var first = rows[0];
        var later = rows.Where(r => r.RunKey != first.RunKey).Select(r => r.RunKey).Distinct().ToList();
        var machine = rows.Select(r => r.Machine).FirstOrDefault(m => m is not null) ?? "machine not recorded in these rows";
        var when = DayAndTime(first.RunKey) + (later.Count == 0 ? "" : ", with " + string.Join(", ", later.Select(DayAndTime)));
        var sizes = rows.Select(r => r.Clients).Distinct().Order().ToArray();

        svg.Append(CultureInfo.InvariantCulture, $"""
            <svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" viewBox="0 0 {Width} {Height}" font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="13">
            <title>Comety load test: broadcast p99 and server CPU per delivered event against N</title>
            <rect width="{Width}" height="{Height}" fill="#ffffff"/>
            <text x="{Width / 2}" y="30" text-anchor="middle" font-size="19" font-weight="bold">Comety against SignalR: broadcasts to N waiting clients</text>
            <text x="{Width / 2}" y="54" text-anchor="middle" fill="#333333">{Escape($"Run of {when} UTC · {machine}")}</text>

            """);

        Panel(svg, PlotLefts[0], "Broadcast latency, p99 (ms)", rows, sizes, r => r.P99Ms);
        Panel(svg, PlotLefts[1], "Server CPU per delivered event (µs)", rows, sizes, r => r.CpuUsPerDelivery);
        Legend(svg, rows);

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void Panel(StringBuilder svg, int left, string title, List<ChartRow> rows, int[] sizes, Func<ChartRow, double> value)
    {
        var bottom = PlotTop + PlotHeight;
        var (step, top) = Scale(rows.Max(value));
        var (low, high) = (Math.Log10(sizes[0]), Math.Log10(sizes[^1]));
        var pad = high - low < 0.01 ? 0.5 : (high - low) * 0.08;
        double X(int n) => left + ((Math.Log10(n) - (low - pad)) / (high - low + (2 * pad)) * PlotWidth);
        double Y(double v) => bottom - (v / top * PlotHeight);

        svg.Append(CultureInfo.InvariantCulture, $"""
            <text x="{left + (PlotWidth / 2)}" y="{PlotTop - 16}" text-anchor="middle" font-size="15" font-weight="bold">{Escape(title)}</text>

            """);

        // Horizontal grid lines and the value axis.
        for (var tick = 0.0; tick <= top + (step / 2); tick += step)
        {
            var y = Y(tick);
            svg.Append(CultureInfo.InvariantCulture, $"""
                <line x1="{left}" y1="{y:0.#}" x2="{left + PlotWidth}" y2="{y:0.#}" stroke="{(tick == 0 ? "#555555" : "#e2e2e2")}" stroke-width="1"/>
                <text x="{left - 8}" y="{y + 4:0.#}" text-anchor="end" fill="#333333">{Number(tick, step)}</text>

                """);
        }

        // One tick per size measured; the size axis is logarithmic.
        foreach (var n in sizes)
        {
            var x = X(n);
            svg.Append(CultureInfo.InvariantCulture, $"""
                <line x1="{x:0.#}" y1="{PlotTop}" x2="{x:0.#}" y2="{bottom}" stroke="#f0f0f0" stroke-width="1"/>
                <line x1="{x:0.#}" y1="{bottom}" x2="{x:0.#}" y2="{bottom + 5}" stroke="#555555" stroke-width="1"/>
                <text x="{x:0.#}" y="{bottom + 20}" text-anchor="middle" fill="#333333">{n.ToString("N0", CultureInfo.InvariantCulture)}</text>

                """);
        }

        svg.Append(CultureInfo.InvariantCulture, $"""
            <line x1="{left}" y1="{PlotTop}" x2="{left}" y2="{bottom}" stroke="#555555" stroke-width="1"/>
            <text x="{left + (PlotWidth / 2)}" y="{bottom + 42}" text-anchor="middle" fill="#333333">clients waiting (N, logarithmic)</text>

            """);

        foreach (var style in Styles)
        {
            var points = rows.Where(r => r.Implementation == style.Implementation && r.Transport == style.Transport).OrderBy(r => r.Clients).ToList();
            if (points.Count == 0)
            {
                continue;
            }

            var path = string.Join(" ", points.Select((r, i) => string.Create(CultureInfo.InvariantCulture, $"{(i == 0 ? 'M' : 'L')}{X(r.Clients):0.#},{Y(value(r)):0.#}")));
            svg.Append(CultureInfo.InvariantCulture, $"""
                <path d="{path}" fill="none" stroke="{style.Colour}" stroke-width="2.5"{(style.Dash is null ? "" : $" stroke-dasharray=\"{style.Dash}\"")}/>

                """);
            foreach (var r in points)
            {
                Marker(svg, style, X(r.Clients), Y(value(r)), r.Faults == 0);
            }
        }
    }

    private static void Legend(StringBuilder svg, List<ChartRow> rows)
    {
        var present = Styles.Where(s => rows.Any(r => r.Implementation == s.Implementation && r.Transport == s.Transport)).ToList();
        var y = PlotTop + PlotHeight + 78;
        const int ItemWidth = 210;
        var x = (Width - (present.Count * ItemWidth)) / 2.0;
        foreach (var style in present)
        {
            svg.Append(CultureInfo.InvariantCulture, $"""
                <line x1="{x:0.#}" y1="{y}" x2="{x + 36:0.#}" y2="{y}" stroke="{style.Colour}" stroke-width="2.5"{(style.Dash is null ? "" : $" stroke-dasharray=\"{style.Dash}\"")}/>

                """);
            Marker(svg, style, x + 18, y, filled: true);
            svg.Append(CultureInfo.InvariantCulture, $"""
                <text x="{x + 44:0.#}" y="{y + 5}">{Escape(style.Implementation + " " + style.Transport)}</text>

                """);
            x += ItemWidth;
        }

        var note = rows.Any(r => r.Faults > 0)
            ? "Hollow markers: rows with events lost, duplicated or out of order, or failed clients. "
            : "Every row: 0 lost, 0 duplicated, 0 out of order. ";
        svg.Append(CultureInfo.InvariantCulture, $"""
            <text x="{Width / 2}" y="{y + 30}" text-anchor="middle" font-size="12" fill="#555555">{Escape(note + "Drawn by Comety.LoadTest chart from bench/results/loadtest.jsonl.")}</text>

            """);
    }

    private static void Marker(StringBuilder svg, Series style, double x, double y, bool filled)
    {
        var fill = filled ? style.Colour : "#ffffff";
        if (style.Circle)
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<circle cx="{x:0.#}" cy="{y:0.#}" r="4.5" fill="{fill}" stroke="{style.Colour}" stroke-width="2"/>""");
        }
        else
        {
            svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{x - 4:0.#}" y="{y - 4:0.#}" width="8" height="8" fill="{fill}" stroke="{style.Colour}" stroke-width="2"/>""");
        }

        svg.Append('\n');
    }

    /// <summary>A tick step of 1, 2, 2.5 or 5 times a power of ten giving about five ticks, and the top of the axis.</summary>
    private static (double Step, double Top) Scale(double max)
    {
        if (max <= 0)
        {
            return (1, 5);
        }

        var rough = max * 1.05 / 5;
        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var step = new[] { 1, 2, 2.5, 5, 10 }.Select(m => m * power).First(s => s >= rough);
        return (step, step * Math.Ceiling(max * 1.05 / step));
    }

    private static string Number(double value, double step) =>
        value.ToString(step >= 1 ? "#,0" : step >= 0.1 ? "0.0" : "0.00", CultureInfo.InvariantCulture);

    private static string DayAndTime(string run) =>
        DateTime.TryParse(run, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time)
            ? time.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)
            : run;

    private static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private sealed record Series(string Implementation, string Transport, string Colour, string? Dash, bool Circle);

    /// <summary>What the chart reads of a JSON line (<see cref="RowResult"/>).</summary>
    private sealed record ChartRow
    {
        public DateTime Date { get; init; }

        public string Implementation { get; init; } = "";

        public string Transport { get; init; } = "";

        public int Clients { get; init; }

        public double P99Ms { get; init; }

        public double CpuUsPerDelivery { get; init; }

        public long Lost { get; init; }

        public long Misdelivered { get; init; }

        public long Duplicated { get; init; }

        public long OutOfOrder { get; init; }

        public long Unexpected { get; init; }

        public long ClientFailures { get; init; }

        public string? Run { get; init; }

        public string? Machine { get; init; }

        /// <summary>The run the row was grouped into (its <c>run</c>, or for older rows the first row's date).</summary>
        public string RunKey { get; init; } = "";

        public long Faults => Lost + Misdelivered + Duplicated + OutOfOrder + Unexpected + ClientFailures;

        public (string, int) Key => (Implementation + " " + Transport, Clients);
    }
}
