using System.Diagnostics;
using System.Globalization;

namespace IntervalNotifier.Benchmarks.B1_MultiDevice;

/// <summary>The four ways of invalidating N devices that B1 compares.</summary>
public enum Mode
{
    /// <summary>Each device's <c>Invalidate</c> starts its flush and waits for it.</summary>
    SinglePass,

    /// <summary>Every device starts its flush in the start pass; the finish pass waits.</summary>
    TwoPass,

    /// <summary>Two-pass devices whose pool fails (by default always): each falls back to waiting in its start.</summary>
    PoolFailing,

    /// <summary>
    /// The asynchronous begin (<c>BeginInvalidationAsync</c>) over asynchronous two-pass devices:
    /// every start pass starts its flush and schedules its completion with the device clock; the
    /// finish pass awaits the completions, which the clock signals at the deadlines.
    /// </summary>
    Async,
}

/// <summary>The latency figures of one mode at one device count.</summary>
public sealed record ModeResult(Mode Mode, int Iterations, double P50Micros, double P99Micros, double MeanMicros);

/// <summary>One row of the B1 table.</summary>
public sealed record DeviceCountResult(int Devices, double IdealRatio, double SlowestMicros, ModeResult SinglePass, ModeResult TwoPass, ModeResult PoolFailing, ModeResult Async)
{
    public IEnumerable<ModeResult> Modes => [SinglePass, TwoPass, PoolFailing, Async];

    public double Ratio => SinglePass.P50Micros / TwoPass.P50Micros;

    public double TwoPassOverSlowest => TwoPass.P50Micros / SlowestMicros;

    public double FallbackOverSingle => PoolFailing.P50Micros / SinglePass.P50Micros;

    public double AsyncOverTwoPass => Async.P50Micros / TwoPass.P50Micros;
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

        // One device clock for every device of every asynchronous space: it models the devices'
        // interrupt, not a thread per device.
        using var clock = new DeadlineSignaller(options.Devices.Max(), options.ClockIdleSpin);
        foreach (int n in options.Devices)
        {
            results.Add(RunDeviceCount(options, n, clock, progress));
        }

        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  device clock: {clock.Signalled} completions signalled, {clock.MeanLatenessMicros:0.0} µs after their deadline on average (max {clock.MaxLatenessMicros:0} µs)."));

        return results;
    }

    private static DeviceCountResult RunDeviceCount(MultiDeviceOptions options, int n, DeadlineSignaller clock, TextWriter progress)
    {
        var random = new Random(options.Seed * 7919 + n);
        double[] latencies = [.. Enumerable.Range(0, n).Select(i => options.Latency.LatencyOf(i, n, random))];
        long[] ticks = [.. latencies.Select(us => (long)(us * Stopwatch.Frequency / 1_000_000))];

        using var single = new AddressSpace(new AddressSpaceOptions { Name = $"b1-single-{n}" });
        using var twoPass = new AddressSpace(new AddressSpaceOptions { Name = $"b1-two-pass-{n}" });
        using var failing = new AddressSpace(new AddressSpaceOptions { Name = $"b1-pool-failing-{n}" });
        using var asynchronous = new AddressSpace(new AddressSpaceOptions { Name = $"b1-async-{n}" });
        var pool = new FinishRecordPool<FlushRecord>(options.PoolCapacity ?? n);
        var failingPool = new FinishRecordPool<FlushRecord>(options.PoolCapacity ?? n, options.CreateFaults());
        var asyncPool = new FinishRecordPool<AsyncFlushRecord>(options.PoolCapacity ?? n);
        for (int i = 0; i < n; i++)
        {
            single.Subscribe(0, RangeLength, new SinglePassDevice(ticks[i], options.Wait));
            twoPass.Subscribe(0, RangeLength, new TwoPassDevice(ticks[i], options.Wait, pool));
            failing.Subscribe(0, RangeLength, new TwoPassDevice(ticks[i], options.Wait, failingPool));
            asynchronous.Subscribe(0, RangeLength, new AsyncDevice(ticks[i], asyncPool, clock));
        }

        var range = new InvalidationRange(0, RangeLength);
        AddressSpace[] spaces = [single, twoPass, failing];
        const int Modes = 4;

        // Keep each mode within the time budget: the single-pass mode at N = 64 costs ~3 ms.
        double slowest = latencies.Max();
        double expectedMicros = (latencies.Sum() * 2) + (slowest * 2);
        int iterations = (int)Math.Clamp(options.BudgetPerMode.TotalMicroseconds / (latencies.Sum() + 1), 20, options.Iterations);
        int warmup = Math.Max(5, iterations / 10);
        long slowestTicks = ticks.Max();
        progress.Write($"  N = {n,3}: {iterations} invalidations per mode (~{(iterations + warmup) * expectedMicros / 1e6:0.0} s) … ");

        var samples = new double[Modes][];
        for (int m = 0; m < Modes; m++)
        {
            samples[m] = new double[iterations];
        }

        // Untimed: the asynchronous devices under the synchronous begin (their InvalidateFinish
        // blocks on the same completion), so that that path is exercised by every run.
        clock.KeepAwake(TimeSpan.FromMilliseconds(1));
        asynchronous.BeginInvalidation(range).Dispose();

        for (int i = -warmup; i < iterations; i++)
        {
            for (int m = 0; m < Modes; m++)
            {
                long elapsed = m == (int)Mode.Async ? TimeAsync(asynchronous, range, clock, slowestTicks) : TimeSync(spaces[m], range);
                if (i >= 0)
                {
                    samples[m][i] = elapsed * 1e6 / Stopwatch.Frequency;
                }
            }
        }

        if (pool.Rented != 0 || failingPool.Rented != 0 || asyncPool.Rented != 0)
        {
            throw new InvalidOperationException("A finish record was not returned to its pool.");
        }

        progress.WriteLine(pool.Failures + asyncPool.Failures == 0
            ? "done"
            : $"done; rents that failed (and fell back to waiting in the start pass): two-pass {pool.Failures}, async {asyncPool.Failures}");
        return new DeviceCountResult(
            n,
            latencies.Sum() / slowest,
            slowest,
            Summarize(Mode.SinglePass, samples[0]),
            Summarize(Mode.TwoPass, samples[1]),
            Summarize(Mode.PoolFailing, samples[2]),
            Summarize(Mode.Async, samples[3]));
    }

    // One synchronous BeginInvalidation + end, in Stopwatch ticks.
    private static long TimeSync(AddressSpace space, InvalidationRange range)
    {
        long begin = Stopwatch.GetTimestamp();
        space.BeginInvalidation(range).Dispose();
        return Stopwatch.GetTimestamp() - begin;
    }

    // One BeginInvalidationAsync + end, in Stopwatch ticks. The begin's task is spun on rather
    // than awaited: this measures the library and the device clock, not the thread pool's
    // scheduling of a continuation. The spin yields the core at every turn (returning at once
    // when no other thread wants it): on a busy machine the clock thread may be waiting for this
    // very core. The clock thread is made to run before the timer starts (a device's interrupt
    // needs no thread woken up), for twice the slowest latency.
    private static long TimeAsync(AddressSpace space, InvalidationRange range, DeadlineSignaller clock, long slowestTicks)
    {
        clock.KeepAwake(TimeSpan.FromSeconds(2.0 * slowestTicks / Stopwatch.Frequency));
        long begin = Stopwatch.GetTimestamp();
        ValueTask<InvalidationScope> task = space.BeginInvalidationAsync(range);
        while (!task.IsCompleted)
        {
            _ = Thread.Yield();
        }

        task.GetAwaiter().GetResult().Dispose();
        return Stopwatch.GetTimestamp() - begin;
    }

    private static ModeResult Summarize(Mode mode, double[] samples)
    {
        double[] sorted = [.. samples.Order()];
        return new ModeResult(mode, sorted.Length, Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted.Average());
    }

    private static double Percentile(double[] sorted, double p) => sorted[(int)Math.Ceiling(p * (sorted.Length - 1))];
}
