using BenchmarkDotNet.Running;
using IntervalNotifier.Benchmarks.B1_MultiDevice;
using IntervalNotifier.Benchmarks.B8_Cache;

namespace IntervalNotifier.Benchmarks;

/// <summary>
/// No arguments (or <c>b1 …</c>): the multi-device comparison (B1), the headline demonstration,
/// then B1's many invalidations at once. <c>many …</c>: only the latter.
/// <c>suites …</c>: the BenchmarkDotNet suites (B2–B6, B8), with BenchmarkDotNet's own options.
/// <c>cache …</c>: B8's mixed run (readers, a writer that invalidates, the coherent cache against a hand-written one).
/// <c>plot b2|b3 REPORT.csv OUT.png</c>: the log-log plots of docs/benchmarks.md from a suite's CSV report.
/// <c>replay [options] TRACE…</c>: B7, strace recordings of real programs replayed over the library and the baselines.
/// <c>paired DIR_A DIR_B [options]</c>: two builds of the library side by side in one process (a before/after ratio).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "suites")
        {
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args[1..], SuiteConfig.Create());
            return 0;
        }

        if (args.Length > 0 && args[0] == "replay")
        {
            return B7_Replay.ReplayCommand.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "cache")
        {
            return MixedCacheRun.RunVerb(args[1..]);
        }

        if (args.Length > 0 && args[0] == "paired")
        {
            return Common.PairedBuilds.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "plot")
        {
            return ReportPlots.Run(args[1..]);
        }

        bool manyOnly = args.Length > 0 && args[0] == "many";
        string[] b1Args = args.Length > 0 && args[0] is "b1" or "many" ? args[1..] : args;
        if (b1Args.Contains("--help") || b1Args.Contains("-h"))
        {
            Console.WriteLine(MultiDeviceOptions.Usage);
            return 0;
        }

        MultiDeviceOptions options;
        try
        {
            options = MultiDeviceOptions.Parse(b1Args);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine();
            Console.Error.WriteLine(MultiDeviceOptions.Usage);
            return 2;
        }

        if (!manyOnly)
        {
            RunMultiDevice(options);
        }

        if (manyOnly || options.RunMany)
        {
            if (!manyOnly)
            {
                Console.WriteLine();
            }

            RunMany(options);
        }

        return 0;
    }

    private static void RunMultiDevice(MultiDeviceOptions options)
    {
        Console.WriteLine(MultiDeviceReport.Header(options));
        Console.WriteLine();
        IReadOnlyList<DeviceCountResult> results = MultiDeviceComparison.Run(options, Console.Out);
        Console.WriteLine();
        Console.Write(MultiDeviceReport.Table(results, markdown: false));
        Console.WriteLine();
        Console.WriteLine(MultiDeviceReport.Verdict(results));
        if (options.OutDirectory is { } directory)
        {
            MultiDeviceReport.Write(results, options, directory);
            Console.WriteLine($"Wrote b1.csv, b1.md and b1.png to {Path.GetFullPath(directory)}.");
        }
    }

    private static void RunMany(MultiDeviceOptions options)
    {
        Console.WriteLine(ManyInvalidations.Header(options));
        Console.WriteLine();
        ManyResult result = ManyInvalidations.Run(options, Console.Out);
        Console.WriteLine();
        Console.Write(ManyInvalidations.Table(result, markdown: false));
        Console.WriteLine();
        Console.WriteLine(ManyInvalidations.Verdict(result));
        Console.WriteLine(result.ClockNote + ".");
        if (options.OutDirectory is { } directory)
        {
            ManyInvalidations.Write(result, options, directory);
            Console.WriteLine($"Wrote many.md to {Path.GetFullPath(directory)}.");
        }
    }
}
