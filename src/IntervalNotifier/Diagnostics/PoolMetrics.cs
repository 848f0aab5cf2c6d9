using System.Diagnostics.Metrics;

namespace IntervalNotifier.Diagnostics;

/// <summary>What a finish-record pool shows its instruments.</summary>
internal interface IPoolMetricsSource
{
    /// <summary>The pool's tag value: its record type and a number.</summary>
    string Name { get; }

    /// <summary>Records rented and not yet returned.</summary>
    int Rented { get; }

    /// <summary>Rents that failed.</summary>
    long Failures { get; }
}

/// <summary>
/// The pools' instruments on the library's meter: a gauge of records out and a count of failed
/// rents, per pool (tag <see cref="NotifierMetrics.PoolTag"/>). Observable: they cost nothing
/// until a listener collects, and then read each live pool.
/// </summary>
internal static class PoolMetrics
{
    // The pools, held weakly; see Instruments for why a ConditionalWeakTable rather than a lock.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IPoolMetricsSource, object?> s_pools = [];
    private static int s_next;

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1823:Avoid unused private fields", Justification = "Instruments live by being created on the meter.")]
    private static readonly ObservableGauge<int> RecordsOut = Instruments.Shared.Meter.CreateObservableGauge(
        NotifierMetrics.PoolRecordsOut, () => Observe(static p => p.Rented), "{record}", "Finish records rented from a pool and not yet returned.");

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1823:Avoid unused private fields", Justification = "Instruments live by being created on the meter.")]
    private static readonly ObservableCounter<long> Failures = Instruments.Shared.Meter.CreateObservableCounter(
        NotifierMetrics.PoolFailures, () => Observe(static p => p.Failures), "{rent}", "Rents from a finish-record pool that failed (fault injection or no free record).");

    /// <summary>Registers a pool with the instruments (weakly: a pool that is dropped stops being observed).</summary>
    /// <param name="pool">The pool.</param>
    /// <param name="recordType">The name of its record type.</param>
    /// <returns>The pool's tag value.</returns>
    internal static string Register(IPoolMetricsSource pool, string recordType)
    {
        s_pools.AddOrUpdate(pool, null);
        return $"{recordType}#{Interlocked.Increment(ref s_next)}";
    }

    private static List<Measurement<T>> Observe<T>(Func<IPoolMetricsSource, T> read)
        where T : struct
    {
        var measurements = new List<Measurement<T>>();
        foreach (KeyValuePair<IPoolMetricsSource, object?> entry in s_pools)
        {
            measurements.Add(new Measurement<T>(read(entry.Key), new KeyValuePair<string, object?>(NotifierMetrics.PoolTag, entry.Key.Name)));
        }

        return measurements;
    }
}
