using System.Diagnostics;

namespace IntervalNotifier.Benchmarks.B7_Replay;

/// <summary>What one replay of a plan measured: each step's time (ticks; 0 for none) and what the oracle and readers counted.</summary>
public sealed record ReplayRun(
    long[] OpTicks,
    long StalePublished,
    long StaleKept,
    long Faults,
    long Retries,
    long SteadyBytes,
    int SteadyInvalidations,
    long FirstUseBytes)
{
    public long Stale => StalePublished + StaleKept;
}

/// <summary>
/// One address space's figures for one trace, from its measured replays: each step's time is
/// the fastest of that step over the replays (a step the scheduler preempted in one replay
/// does not count against the address space), and the stale counts are those of every replay.
/// </summary>
public sealed record ReplayResult(
    string Space,
    int Invalidations,
    int Subscribes,
    int Unsubscribes,
    long InvalidationTicks,
    long SubscribeTicks,
    long UnsubscribeTicks,
    double P50Nanoseconds,
    double P99Nanoseconds,
    long StalePublished,
    long StaleKept,
    long FaultsPerReplay,
    long RetriesPerReplay,
    double BytesPerInvalidation,
    long FirstUseBytes)
{
    public long NotifierTicks => InvalidationTicks + SubscribeTicks + UnsubscribeTicks;

    public double NotifierMilliseconds => NotifierTicks * 1e3 / Stopwatch.Frequency;

    public double InvalidationsPerSecond => (double)Invalidations / Math.Max(InvalidationTicks, 1L) * Stopwatch.Frequency;

    public double SubscribesPerSecond => (double)Subscribes / Math.Max(SubscribeTicks, 1L) * Stopwatch.Frequency;

    public double UnsubscribesPerSecond => (double)Unsubscribes / Math.Max(UnsubscribeTicks, 1L) * Stopwatch.Frequency;

    public long Stale => StalePublished + StaleKept;

    /// <summary>Combines the measured <paramref name="runs"/>; <paramref name="stalePublished"/> and <paramref name="staleKept"/> count every replay, warm-ups included.</summary>
    public static ReplayResult From(string space, ReplayPlan plan, IReadOnlyList<ReplayRun> runs, long stalePublished, long staleKept)
    {
        long invalidation = 0, subscribe = 0, unsubscribe = 0;
        var latencies = new List<long>(plan.Ops.Count);
        for (int i = 0; i < plan.Ops.Count; i++)
        {
            long fastest = runs.Min(r => r.OpTicks[i]);
            switch (plan.Ops[i].Kind)
            {
                case ReplayOpKind.Invalidate:
                    invalidation += fastest;
                    latencies.Add(fastest);
                    break;
                case ReplayOpKind.Subscribe:
                    subscribe += fastest;
                    break;
                default:
                    unsubscribe += fastest;
                    break;
            }
        }

        latencies.Sort();
        long steadyBytes = runs.Sum(r => r.SteadyBytes);
        long steadyCount = runs.Sum(r => (long)r.SteadyInvalidations);
        return new ReplayResult(
            space,
            latencies.Count,
            plan.Ops.Count(o => o.Kind == ReplayOpKind.Subscribe),
            plan.Ops.Count(o => o.Kind == ReplayOpKind.Unsubscribe),
            invalidation,
            subscribe,
            unsubscribe,
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.99),
            stalePublished,
            staleKept,
            runs.Sum(r => r.Faults) / runs.Count,
            runs.Sum(r => r.Retries) / runs.Count,
            steadyCount == 0 ? 0 : (double)steadyBytes / steadyCount,
            runs.Max(r => r.FirstUseBytes));
    }

    private static double Percentile(List<long> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)] * 1e9 / Stopwatch.Frequency;
}
