using System.Globalization;
using System.Text;

namespace IntervalNotifier.Benchmarks.Common;

/// <summary>
/// <c>plot b2 REPORT.csv OUT.png</c> and <c>plot b3 REPORT.csv OUT.png</c>: log-log plots of the
/// walk (B2) and interval-index query (B3) suites from BenchmarkDotNet's CSV report
/// (<c>results/*-report.csv</c> under the run's artifacts), for docs/benchmarks.md.
/// </summary>
public static class ReportPlots
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        if (args.Length != 3 || args[0] is not ("b2" or "b3"))
        {
            Console.Error.WriteLine("usage: plot b2|b3 REPORT.csv OUT.png");
            return 2;
        }

        List<Dictionary<string, string>> rows = ReadCsv(args[1]);
        if (args[0] == "b2")
        {
            // One hit, queries over the whole space: what B2's growth and baseline goals read.
            rows = [.. rows.Where(r => r["Hits"] == "1" && r["Queries"] == "whole-space" && r["Method"] != "locked list scan")];
            Plot(rows, args[2], "B2: one invalidation hitting one of n subscriptions (whole-space queries)",
                "ns per invalidation (log scale)", series: r => r["Method"], dashed: _ => false);
        }
        else
        {
            rows = [.. rows.Where(r => r["Method"] is "B+ tree" or "sorted array" or "AVL tree")];
            Plot(rows, args[2], "B3: one overlap query over n intervals (solid: random small; dashed: nested)",
                "ns per query (log scale)", series: r => $"{r["Method"]}, {(r["Data"] == "Nested" ? "nested" : "random small")}",
                dashed: r => r["Data"] == "Nested");
        }

        Console.WriteLine($"Wrote {args[2]}.");
        return 0;
    }

    private static void Plot(List<Dictionary<string, string>> rows, string path, string title, string yLabel,
        Func<Dictionary<string, string>, string> series, Func<Dictionary<string, string>, bool> dashed)
    {
        ScottPlot.Color[] palette =
        [
            ScottPlot.Colors.SteelBlue, ScottPlot.Colors.FireBrick, ScottPlot.Colors.SeaGreen,
            ScottPlot.Colors.Orange, ScottPlot.Colors.Purple, ScottPlot.Colors.Gray,
        ];
        var colors = new Dictionary<string, ScottPlot.Color>();
        var plot = new ScottPlot.Plot();
        double yMin = double.MaxValue, yMax = double.MinValue;
        foreach (IGrouping<string, Dictionary<string, string>> group in rows.GroupBy(series))
        {
            string method = group.First()["Method"];
            if (!colors.TryGetValue(method, out ScottPlot.Color color))
            {
                colors[method] = color = palette[colors.Count % palette.Length];
            }

            var points = group.Select(r => (N: double.Parse(r["N"], NumberStyles.Number, Inv), Ns: Nanoseconds(r["Mean"])))
                .Where(p => p.Ns > 0).OrderBy(p => p.N).ToArray();
            double[] xs = [.. points.Select(p => Math.Log10(p.N))];
            double[] ys = [.. points.Select(p => Math.Log10(p.Ns))];
            yMin = Math.Min(yMin, ys.Min());
            yMax = Math.Max(yMax, ys.Max());
            var scatter = plot.Add.Scatter(xs, ys, color);
            scatter.LegendText = group.Key;
            scatter.LineWidth = 2;
            scatter.MarkerSize = 6;
            if (dashed(group.First()))
            {
                scatter.LinePattern = ScottPlot.LinePattern.Dashed;
            }
        }

        var xTicks = new ScottPlot.TickGenerators.NumericManual();
        foreach (double n in rows.Select(r => double.Parse(r["N"], NumberStyles.Number, Inv)).Distinct().Order())
        {
            xTicks.AddMajor(Math.Log10(n), n.ToString("#,0", Inv));
        }

        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        yMin = Math.Floor(yMin);
        yMax = Math.Ceiling(yMax);
        for (double e = yMin; e <= yMax; e++)
        {
            yTicks.AddMajor(e, Math.Pow(10, e).ToString("#,0", Inv));
        }

        plot.Axes.Bottom.TickGenerator = xTicks;
        plot.Axes.Left.TickGenerator = yTicks;
        plot.Axes.SetLimitsY(yMin, yMax);
        plot.XLabel("n (log scale)");
        plot.YLabel(yLabel);
        plot.Title(title);
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.SavePng(path, 900, 560);
    }

    // BenchmarkDotNet's "Mean" column: "1,234.5 ns", "12.3 μs", "4.5 ms".
    private static double Nanoseconds(string mean)
    {
        string[] parts = mean.Trim().Split(' ');
        if (parts.Length != 2 || !double.TryParse(parts[0], NumberStyles.Number, Inv, out double value))
        {
            return 0; // NA: a benchmark that did not run
        }

        return value * parts[1] switch
        {
            "ns" => 1,
            "μs" or "us" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            _ => throw new FormatException($"Unknown unit in '{mean}'."),
        };
    }

    private static List<Dictionary<string, string>> ReadCsv(string path)
    {
        string[] lines = File.ReadAllLines(path);
        string[] header = Split(lines[0]);
        return [.. lines.Skip(1).Where(l => l.Length > 0).Select(l =>
        {
            string[] cells = Split(l);
            var row = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < header.Length && i < cells.Length; i++)
            {
                row[header[i]] = cells[i].Trim('\'');
            }

            return row;
        })];
    }

    // One CSV line; cells may be quoted (BenchmarkDotNet quotes those with commas).
    private static string[] Split(string line)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        bool quoted = false;
        foreach (char c in line)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == ',' && !quoted)
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else
            {
                cell.Append(c);
            }
        }

        cells.Add(cell.ToString());
        return [.. cells];
    }
}
