using BenchmarkDotNet.Running;
using IntervalNotifier.Benchmarks.B1_MultiDevice;

namespace IntervalNotifier.Benchmarks;

/// <summary>
/// No arguments (or <c>b1 …</c>): the multi-device comparison (B1), the headline demonstration.
/// <c>suites …</c>: the BenchmarkDotNet suites B2–B6, with BenchmarkDotNet's own options.
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

        string[] b1Args = args.Length > 0 && args[0] == "b1" ? args[1..] : args;
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

        return 0;
    }
}
