using System.Diagnostics;

namespace IntervalNotifier.Benchmarks.B1_MultiDevice;

/// <summary>The three ways of invalidating N devices that B1 compares.</summary>
public enum Mode
{
    /// <summary>Each device's <c>Invalidate</c> starts its flush and waits for it.</summary>
    SinglePass,

    /// <summary>Every device starts its flush in the start pass; the finish pass waits.</summary>
    TwoPass,

    /// <summary>Two-pass devices whose pool fails (by default always): each falls back to waiting in its start.</summary>
    PoolFailing,
}

/// <summary>The latency figures of one mode at one device count.</summary>
public sealed record ModeResult(Mode Mode, int Iterations, double P50Micros, double P99Micros, double MeanMicros);

/// <summary>One row of the B1 table.</summary>
public sealed record DeviceCountResult(int Devices, double IdealRatio, double SlowestMicros, ModeResult SinglePass, ModeResult TwoPass, ModeResult PoolFailing)
{
    public double Ratio => SinglePass.P50Micros / TwoPass.P50Micros;

    public double TwoPassOverSlowest => TwoPass.P50Micros / SlowestMicros;

    public double FallbackOverSingle => PoolFailing.P50Micros / SinglePass.P50Micros;
}

/// <summary>
/// B1, the headline: N devices subscribe to the same range; one invalidation (begin + end) is
/// timed in each mode, interleaved iteration by iteration so that all modes see the same noise.
/// </summary>
public static class MultiDeviceComparison
{
    private const ulong RangeLength = 1 << 20;

    public static IReadOnlyList<DeviceCountResult> Run(MultiDeviceOptions options, TextWriter progress)
    {
        var results = new List<DeviceCountResult>();
        foreach (int n in options.Devices)
        {
            results.Add(RunDeviceCount(options, n, progress));
        }

        return results;
    }

    private static DeviceCountResult RunDeviceCount(MultiDeviceOptions options, int n, TextWriter progress)
    {
        var random = new Random(options.Seed * 7919 + n);
        double[] latencies = [.. Enumerable.Range(0, n).Select(i => options.Latency.LatencyOf(i, n, random))];
        long[] ticks = [.. latencies.Select(us => (long)(us * Stopwatch.Frequency / 1_000_000))];

        using var single = new AddressSpace(new AddressSpaceOptions { Name = $"b1-single-{n}" });
        using var twoPass = new AddressSpace(new AddressSpaceOptions { Name = $"b1-two-pass-{n}" });
        using var failing = new AddressSpace(new AddressSpaceOptions { Name = $"b1-pool-failing-{n}" });
        var pool = new FinishRecordPool<FlushRecord>(options.PoolCapacity ?? n);
        var failingPool = new FinishRecordPool<FlushRecord>(options.PoolCapacity ?? n, options.CreateFaults());
        for (int i = 0; i < n; i++)
        {
            single.Subscribe(0, RangeLength, new SinglePassDevice(ticks[i], options.Wait));
            twoPass.Subscribe(0, RangeLength, new TwoPassDevice(ticks[i], options.Wait, pool));
            failing.Subscribe(0, RangeLength, new TwoPassDevice(ticks[i], options.Wait, failingPool));
        }

        var range = new InvalidationRange(0, RangeLength);
        AddressSpace[] spaces = [single, twoPass, failing];

        // Keep each mode within the time budget: the single-pass mode at N = 64 costs ~3 ms.
        double slowest = latencies.Max();
        double expectedMicros = latencies.Sum() * 2 + slowest;
        int iterations = (int)Math.Clamp(options.BudgetPerMode.TotalMicroseconds / (latencies.Sum() + 1), 20, options.Iterations);
        int warmup = Math.Max(5, iterations / 10);
        progress.Write($"  N = {n,3}: {iterations} invalidations per mode (~{(iterations + warmup) * expectedMicros / 1e6:0.0} s) … ");

        var samples = new double[3][];
        for (int m = 0; m < 3; m++)
        {
            samples[m] = new double[iterations];
        }

        for (int i = -warmup; i < iterations; i++)
        {
            for (int m = 0; m < 3; m++)
            {
                long begin = Stopwatch.GetTimestamp();
                spaces[m].BeginInvalidation(range).Dispose();
                long elapsed = Stopwatch.GetTimestamp() - begin;
                if (i >= 0)
                {
                    samples[m][i] = elapsed * 1e6 / Stopwatch.Frequency;
                }
            }
        }

        if (pool.Rented != 0 || failingPool.Rented != 0)
        {
            throw new InvalidOperationException("A finish record was not returned to its pool.");
        }

        progress.WriteLine("done");
        return new DeviceCountResult(
            n,
            latencies.Sum() / slowest,
            slowest,
            Summarize(Mode.SinglePass, samples[0]),
            Summarize(Mode.TwoPass, samples[1]),
            Summarize(Mode.PoolFailing, samples[2]));
    }

    private static ModeResult Summarize(Mode mode, double[] samples)
    {
        double[] sorted = [.. samples.Order()];
        return new ModeResult(mode, sorted.Length, Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted.Average());
    }

    private static double Percentile(double[] sorted, double p) => sorted[(int)Math.Ceiling(p * (sorted.Length - 1))];
}
