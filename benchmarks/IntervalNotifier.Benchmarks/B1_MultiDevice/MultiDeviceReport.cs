using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace IntervalNotifier.Benchmarks.B1_MultiDevice;

/// <summary>Prints and writes the B1 results: console table, CSV, markdown and a PNG plot.</summary>
public static class MultiDeviceReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Header(MultiDeviceOptions options) =>
        $"B1 — multi-device invalidation: latency of one BeginInvalidation + end, in µs.{Environment.NewLine}" +
        $"Flush latency: {options.Latency}; wait: {options.Wait.ToString().ToLowerInvariant()}; two-pass pool: {(options.PoolCapacity?.ToString(Inv) ?? "N")} records; " +
        $"'pool failing' faults: {options.Faults}; async: BeginInvalidationAsync, completions signalled by one device-clock thread.{Environment.NewLine}" +
        $"{RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} logical cores{s_loadAtStart ??= LoadAverage()}.";

    // The load average when the header was first made (the run's start), for b1.md too.
    private static string? s_loadAtStart;

    /// <summary>", load average 1.23 0.98 0.87" where /proc/loadavg exists: the async mode needs two threads running at once (the invalidating one and the device clock), so a busy machine shows in it.</summary>
    internal static string LoadAverage()
    {
        try
        {
            string[] fields = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ') : [];
            return fields.Length >= 3 ? $", load average {fields[0]} {fields[1]} {fields[2]}" : "";
        }
        catch (IOException)
        {
            return "";
        }
    }

    public static string Table(IReadOnlyList<DeviceCountResult> results, bool markdown)
    {
        string[] header = ["N", "single p50", "single p99", "two-pass p50", "two-pass p99", "pool-failing p50", "pool-failing p99", "async p50", "async p99", "single/two", "ideal", "two-pass/slowest", "failing/single", "async/two-pass"];
        var rows = results.Select(r => new[]
        {
            r.Devices.ToString(Inv),
            F(r.SinglePass.P50Micros), F(r.SinglePass.P99Micros),
            F(r.TwoPass.P50Micros), F(r.TwoPass.P99Micros),
            F(r.PoolFailing.P50Micros), F(r.PoolFailing.P99Micros),
            F(r.Async.P50Micros), F(r.Async.P99Micros),
            r.Ratio.ToString("0.00", Inv) + "×",
            r.IdealRatio.ToString("0.##", Inv) + "×",
            r.TwoPassOverSlowest.ToString("0.000", Inv),
            r.FallbackOverSingle.ToString("0.000", Inv),
            r.AsyncOverTwoPass.ToString("0.000", Inv),
        }).ToList();

        var sb = new StringBuilder();
        if (markdown)
        {
            sb.AppendLine("| " + string.Join(" | ", header) + " |");
            sb.AppendLine("|" + string.Concat(header.Select(_ => "---:|")));
            foreach (string[] row in rows)
            {
                sb.AppendLine("| " + string.Join(" | ", row) + " |");
            }

            return sb.ToString();
        }

        int[] widths = [.. header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length)))];
        sb.AppendLine(string.Join("  ", header.Select((h, i) => h.PadLeft(widths[i]))));
        sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (string[] row in rows)
        {
            sb.AppendLine(string.Join("  ", row.Select((c, i) => c.PadLeft(widths[i]))));
        }

        return sb.ToString();
    }

    public static string Verdict(IReadOnlyList<DeviceCountResult> results)
    {
        DeviceCountResult largest = results.MaxBy(r => r.Devices)!;
        DeviceCountResult worstAsync = results.MaxBy(r => r.AsyncOverTwoPass)!;
        return string.Create(Inv,
            $"At N = {largest.Devices}: two-pass p50 = {largest.TwoPassOverSlowest:0.000} × the slowest device (goal ≤ 1.05), " +
            $"single/two-pass = {largest.Ratio:0.0}× of an ideal {largest.IdealRatio:0.#}× ({largest.Ratio / largest.IdealRatio:0.00} of ideal; goal ≥ 0.9), " +
            $"pool failing = {largest.FallbackOverSingle:0.000} × single-pass (goal within 5 %). " +
            $"Worst N = {worstAsync.Devices}: async p50 = {worstAsync.AsyncOverTwoPass:0.000} × two-pass p50 (goal within 5 % at every N, i.e. ≤ 1.05: " +
            $"{(worstAsync.AsyncOverTwoPass <= 1.05 ? "met" : "not met")}).");
    }

    public static void Write(IReadOnlyList<DeviceCountResult> results, MultiDeviceOptions options, string directory)
    {
        Directory.CreateDirectory(directory);
        var csv = new StringBuilder("devices,mode,iterations,p50_us,p99_us,mean_us\n");
        foreach (DeviceCountResult r in results)
        {
            foreach (ModeResult m in r.Modes)
            {
                csv.AppendLine(string.Create(Inv, $"{r.Devices},{m.Mode},{m.Iterations},{m.P50Micros:0.###},{m.P99Micros:0.###},{m.MeanMicros:0.###}"));
            }
        }

        File.WriteAllText(Path.Combine(directory, "b1.csv"), csv.ToString());
        File.WriteAllText(Path.Combine(directory, "b1.md"),
            $"{Header(options).Replace(Environment.NewLine, "  " + Environment.NewLine, StringComparison.Ordinal)}{Environment.NewLine}{Environment.NewLine}{Table(results, markdown: true)}{Environment.NewLine}{Verdict(results)}{Environment.NewLine}");
        Plot(results, options, Path.Combine(directory, "b1.png"));
    }

    private static void Plot(IReadOnlyList<DeviceCountResult> results, MultiDeviceOptions options, string path)
    {
        // Both axes logarithmic: N doubles, and single-pass latency grows with it.
        double[] xs = [.. results.Select(r => Math.Log2(r.Devices))];
        double[] Log(Func<DeviceCountResult, double> f) => [.. results.Select(r => Math.Log10(f(r)))];

        var plot = new ScottPlot.Plot();
        void Line(double[] ys, string label, ScottPlot.Color color, bool dashed)
        {
            var scatter = plot.Add.Scatter(xs, ys, color);
            scatter.LegendText = label;
            scatter.LineWidth = 2;
            scatter.MarkerSize = dashed ? 0 : 6;
            if (dashed)
            {
                scatter.LinePattern = ScottPlot.LinePattern.Dashed;
            }
        }

        Line(Log(r => r.SinglePass.P50Micros), "single-pass p50", ScottPlot.Colors.FireBrick, dashed: false);
        Line(Log(r => r.PoolFailing.P50Micros), "two-pass, pool failing p50", ScottPlot.Colors.Orange, dashed: false);
        Line(Log(r => r.TwoPass.P50Micros), "two-pass p50", ScottPlot.Colors.SteelBlue, dashed: false);
        Line(Log(r => r.Async.P50Micros), "async (BeginInvalidationAsync) p50", ScottPlot.Colors.SeaGreen, dashed: false);
        ((ScottPlot.Plottables.Scatter)plot.PlottableList[^1]).MarkerShape = ScottPlot.MarkerShape.OpenDiamond;
        Line(Log(r => r.SlowestMicros * r.IdealRatio), "ideal single-pass (sum of latencies)", ScottPlot.Colors.FireBrick.WithAlpha(0.5), dashed: true);
        Line(Log(r => r.SlowestMicros), "ideal two-pass (slowest device)", ScottPlot.Colors.SteelBlue.WithAlpha(0.5), dashed: true);

        var xTicks = new ScottPlot.TickGenerators.NumericManual();
        foreach (DeviceCountResult r in results)
        {
            xTicks.AddMajor(Math.Log2(r.Devices), r.Devices.ToString(Inv));
        }

        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        double yMin = Math.Floor(results.Min(r => Math.Log10(Math.Min(Math.Min(r.TwoPass.P50Micros, r.Async.P50Micros), r.SlowestMicros))));
        double yMax = Math.Ceiling(results.Max(r => Math.Log10(Math.Max(Math.Max(r.SinglePass.P50Micros, r.Async.P50Micros), r.SlowestMicros * r.IdealRatio))));
        for (double e = yMin; e <= yMax; e++)
        {
            yTicks.AddMajor(e, Math.Pow(10, e).ToString("#,0.###", Inv));
            foreach (int m in new[] { 2, 5 })
            {
                if (e + Math.Log10(m) < yMax)
                {
                    yTicks.AddMajor(e + Math.Log10(m), (m * Math.Pow(10, e)).ToString("#,0.###", Inv));
                }
            }
        }

        plot.Axes.Bottom.TickGenerator = xTicks;
        plot.Axes.Left.TickGenerator = yTicks;
        plot.Axes.SetLimitsY(yMin, yMax);
        plot.XLabel("devices (N)");
        plot.YLabel("latency of one invalidation, µs (log scale)");
        plot.Title($"Two-pass invalidation: N devices, flush latency {options.Latency}");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.SavePng(path, 900, 560);
    }

    private static string F(double micros) => micros.ToString(micros < 100 ? "0.0" : "0", Inv);
}
