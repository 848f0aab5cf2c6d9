using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Reports;

namespace IntervalNotifier.Benchmarks.Common;

/// <summary>The configuration shared by the suites: memory diagnoser, ratio columns, grouped by category.</summary>
public static class SuiteConfig
{
    /// <summary>Set INTERVALNOTIFIER_BENCH_SMOKE=1 to shrink every suite's parameters (for the CI smoke run).</summary>
    public static bool Smoke { get; } = Environment.GetEnvironmentVariable("INTERVALNOTIFIER_BENCH_SMOKE") == "1";

    public static IConfig Create() =>
        DefaultConfig.Instance
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumn(StatisticColumn.P95)
            .WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend))
            .WithOptions(ConfigOptions.JoinSummary | ConfigOptions.DisableLogFile);
}
