using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace IntervalNotifier.Benchmarks.B7_Replay;

/// <summary>B7's tables, verdict and plot.</summary>
public static class ReplayReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Table(IReadOnlyList<TraceResult> traces, int readers, int repeat)
    {
        var sb = new StringBuilder();
        sb.AppendLine(Inv, $"B7: {traces.Count} trace(s) replayed; {readers} fault-handler thread(s); each call's fastest time in {repeat} replay(s) per address space, after a warm-up; " +
            $".NET {Environment.Version}, {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} logical CPUs.");
        sb.AppendLine();
        sb.AppendLine("| trace | processes | calls | mmap | munmap | mprotect | madvise | mremap | brk | exits | invalidations | subscribes | unsubscribes | peak subscriptions | over live | failed calls skipped | lines skipped |");
        sb.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (TraceResult t in traces)
        {
            ReplayResult lib = t.Results[0];
            sb.AppendLine(Inv, $"| {t.Name} | {t.Plan.ProcessCount} | {t.Plan.Events:N0} | {Count(t, "mmap")} | {Count(t, "munmap")} | {Count(t, "mprotect")} | {Count(t, "madvise")} | " +
                $"{Count(t, "mremap")} | {Count(t, "brk")} | {Count(t, "exit")} | {lib.Invalidations:N0} | {lib.Subscribes:N0} | {lib.Unsubscribes:N0} | {t.Plan.PeakSubscriptions:N0} | {t.Plan.FixedOverLive:N0} | {t.FailedCalls:N0} | {t.ProblemCount:N0} |");
        }

        sb.AppendLine();
        sb.AppendLine("Peak subscriptions: the most one process's address space held at once. Over live: mappings placed over live ones (MAP_FIXED, an mremap target), an Unmap first.");
        sb.AppendLine();
        sb.AppendLine("Time is spent inside the notifier's calls (begin + end of each invalidation, subscribe, unsubscribe), summed over the trace; " +
            "rates are calls per second of that time. Faults: pages the readers published (§3 fault path) during the replay; retries: faults read_retry sent back. " +
            "Stale: pages a mirror published or kept older than the primary, over every replay (goal 0). " +
            "B / invalidation: allocated by begin + end, each address space's first invalidation left out (steady state); B at first use: those first invalidations together.");
        sb.AppendLine();
        sb.AppendLine("| trace | address space | notifier time (ms) | × AddressSpace | invalidations/s | subscribes/s | unsubscribes/s | p50 invalidation (ns) | p99 invalidation (ns) | faults | retries | stale | B / invalidation | B at first use |");
        sb.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (TraceResult t in traces)
        {
            ReplayResult lib = t.Results[0];
            foreach (ReplayResult r in t.Results)
            {
                double ratio = (double)r.NotifierTicks / Math.Max(1, lib.NotifierTicks);
                sb.AppendLine(Inv, $"| {t.Name} | {r.Space} | {r.NotifierMilliseconds:N2} | {ratio:N2} | {r.InvalidationsPerSecond:N0} | {r.SubscribesPerSecond:N0} | {r.UnsubscribesPerSecond:N0} | " +
                    $"{r.P50Nanoseconds:N0} | {r.P99Nanoseconds:N0} | {r.FaultsPerReplay:N0} | {r.RetriesPerReplay:N0} | {r.Stale:N0} | {r.BytesPerInvalidation:N1} | {r.FirstUseBytes:N0} |");
            }
        }

        return sb.ToString();
    }

    public static string Verdict(IReadOnlyList<TraceResult> traces)
    {
        var sb = new StringBuilder();
        int fastest = 0;
        foreach (TraceResult t in traces)
        {
            ReplayResult lib = t.Results[0];
            ReplayResult best = t.Results.Skip(1).MinBy(r => r.NotifierTicks)!;
            double ratio = (double)best.NotifierTicks / Math.Max(1, lib.NotifierTicks);
            if (ratio >= 1)
            {
                fastest++;
            }

            sb.AppendLine(Inv, $"{t.Name}: AddressSpace {(ratio >= 1 ? "fastest" : "NOT fastest")}; the best baseline ({best.Space}) takes {ratio:N2}× its time.");
        }

        long stale = traces.Sum(t => t.Results.Sum(r => r.Stale));
        double bytes = traces.Max(t => t.Results[0].BytesPerInvalidation);
        sb.AppendLine(Inv, $"Goals: fastest on every trace: {(fastest == traces.Count ? "met" : "missed")} ({fastest} of {traces.Count}); " +
            $"0 stale pages: {(stale == 0 ? "met" : $"MISSED ({stale})")}; 0 B per invalidation in steady state (AddressSpace): {(bytes == 0 ? "met" : $"missed (up to {bytes:N1} B)")}.");
        return sb.ToString();
    }

    /// <summary>One group of bars per trace: each baseline's notifier time relative to the library's (log scale; the line at 1× is the library).</summary>
    public static void Plot(IReadOnlyList<TraceResult> traces, string path)
    {
        ScottPlot.Color[] palette = [ScottPlot.Colors.FireBrick, ScottPlot.Colors.SeaGreen, ScottPlot.Colors.Orange, ScottPlot.Colors.Purple];
        var plot = new ScottPlot.Plot();
        var bars = new List<ScottPlot.Bar>();
        int baselines = traces[0].Results.Count - 1;
        double low = 0, high = 0;
        for (int t = 0; t < traces.Count; t++)
        {
            ReplayResult lib = traces[t].Results[0];
            for (int s = 0; s < baselines; s++)
            {
                double ratio = Math.Log10((double)traces[t].Results[s + 1].NotifierTicks / Math.Max(1, lib.NotifierTicks));
                (low, high) = (Math.Min(low, ratio), Math.Max(high, ratio));
                bars.Add(new ScottPlot.Bar { Position = (t * (baselines + 1)) + s, Value = ratio, FillColor = palette[s % palette.Length] });
            }
        }

        plot.Add.Bars(bars);
        ScottPlot.Plottables.HorizontalLine one = plot.Add.HorizontalLine(0, 2, ScottPlot.Colors.SteelBlue, ScottPlot.LinePattern.Dashed);
        one.LegendText = traces[0].Results[0].Space + " (1×)";
        for (int s = 0; s < baselines; s++)
        {
            plot.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = traces[0].Results[s + 1].Space, FillColor = palette[s % palette.Length] });
        }

        var xTicks = new ScottPlot.TickGenerators.NumericManual();
        for (int t = 0; t < traces.Count; t++)
        {
            xTicks.AddMajor((t * (baselines + 1)) + ((baselines - 1) / 2.0), traces[t].Name.Replace(".strace.gz", "", StringComparison.Ordinal));
        }

        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        foreach (double r in (double[])[0.25, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 20, 50, 100])
        {
            yTicks.AddMajor(Math.Log10(r), r.ToString("0.##", Inv) + "×");
        }

        plot.Axes.Bottom.TickGenerator = xTicks;
        plot.Axes.Left.TickGenerator = yTicks;
        plot.Axes.SetLimitsY(low - 0.1, high + 0.1);
        plot.YLabel("baseline's time / AddressSpace's (log)");
        plot.Title("B7: real programs' memory maps replayed (above 1×: the library is faster)");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.SavePng(path, 900, 520);
    }

    private static string Count(TraceResult t, string kind) => t.Plan.CallCounts.GetValueOrDefault(kind).ToString("N0", Inv);
}
