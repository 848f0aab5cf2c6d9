using System.Diagnostics.Metrics;
using IntervalNotifier.Diagnostics;

namespace IntervalNotifier.Caching;

/// <summary>
/// A coherent cache's counters on the library's shared meter, tagged with the cache's name
/// (<see cref="NotifierMetrics.CacheTag"/>): free when nobody listens (each records only when
/// its instrument is enabled).
/// </summary>
internal sealed class CacheMetrics(string name)
{
    private static readonly Counter<long> s_hits = Instruments.Shared.Meter.CreateCounter<long>(NotifierMetrics.CacheHits, "{lookup}", "Coherent-cache lookups that found their entry.");
    private static readonly Counter<long> s_misses = Instruments.Shared.Meter.CreateCounter<long>(NotifierMetrics.CacheMisses, "{lookup}", "Coherent-cache lookups that did not find their entry.");
    private static readonly Counter<long> s_retries = Instruments.Shared.Meter.CreateCounter<long>(NotifierMetrics.CacheRetries, "{production}", "Coherent-cache productions thrown away because an overlapping invalidation began while they ran.");
    private static readonly Counter<long> s_evictions = Instruments.Shared.Meter.CreateCounter<long>(NotifierMetrics.CacheEvictions, "{entry}", "Coherent-cache entries evicted (tagged with the reason).");
    private static readonly Counter<long> s_productionWaits = Instruments.Shared.Meter.CreateCounter<long>(NotifierMetrics.CacheProductionWaits, "{wait}", "Coherent-cache lookups that waited for another lookup's production of the same key.");
    private static readonly Counter<long> s_invalidationWaits = Instruments.Shared.Meter.CreateCounter<long>(NotifierMetrics.CacheInvalidationWaits, "{wait}", "Coherent-cache productions that waited for running invalidations of their range to end.");
    private static readonly string?[] s_reasons = Enum.GetNames<EvictionReason>();
    private static int s_next;

    private readonly KeyValuePair<string, object?> _tag = new(NotifierMetrics.CacheTag, name);

    /// <summary>The tag value of a cache given no name: its value type's name and a number.</summary>
    /// <param name="valueType">The value type's name.</param>
    /// <returns>The name.</returns>
    public static string DefaultName(string valueType) => $"{valueType}#{Interlocked.Increment(ref s_next)}";

    public void Hit()
    {
        if (s_hits.Enabled)
        {
            s_hits.Add(1, _tag);
        }
    }

    public void Miss()
    {
        if (s_misses.Enabled)
        {
            s_misses.Add(1, _tag);
        }
    }

    public void Retry()
    {
        if (s_retries.Enabled)
        {
            s_retries.Add(1, _tag);
        }
    }

    public void ProductionWait()
    {
        if (s_productionWaits.Enabled)
        {
            s_productionWaits.Add(1, _tag);
        }
    }

    public void InvalidationWait()
    {
        if (s_invalidationWaits.Enabled)
        {
            s_invalidationWaits.Add(1, _tag);
        }
    }

    public void Evicted(int count, EvictionReason reason)
    {
        if (s_evictions.Enabled && count > 0)
        {
            s_evictions.Add(count, _tag, new KeyValuePair<string, object?>(NotifierMetrics.ReasonTag, s_reasons[(int)reason]));
        }
    }
}
