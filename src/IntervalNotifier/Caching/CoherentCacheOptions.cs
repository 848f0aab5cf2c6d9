namespace IntervalNotifier.Caching;

/// <summary>How a <see cref="CoherentCache{TValue}"/> subscribes, how large it may grow, and what it does with evicted values.</summary>
public sealed class CoherentCacheOptions
{
    /// <summary>The granularity used when <see cref="Granularity"/> is 0: 64 KiB.</summary>
    public const ulong DefaultGranularity = 64 * 1024;

    /// <summary>The name that tags the cache's metrics (<c>intervalnotifier.cache</c>); <see langword="null"/> for its value type's name and a number.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// The bytes one subscription of the cache covers (0: <see cref="DefaultGranularity"/>). The
    /// cache subscribes aligned regions of this size, one per region that holds an entry or a
    /// production, and keeps each for as long as the region is in use.
    /// </summary>
    /// <remarks>
    /// The trade-off: an invalidation that hits a region makes every production in that region
    /// that began before it produce again, and a miss in a region hit during the running
    /// invalidations waits for them to end — so a coarse granularity makes misses retry and wait
    /// for writes near them; a fine one makes an entry that spans many regions hold many
    /// subscriptions (a subscribe on its first miss, a callback per hit region on each
    /// invalidation). Entries are always dropped precisely: only those that overlap the
    /// invalidated range.
    /// </remarks>
    public ulong Granularity { get; init; }

    /// <summary>The most entries the cache holds; beyond it, entries not used recently are evicted (<see cref="EvictionReason.Capacity"/>). <see langword="null"/>: unbounded.</summary>
    public long? SizeLimit { get; init; }

    /// <summary>Whether values that are <see cref="IDisposable"/> are disposed when evicted (after the eviction notification), and when a production is discarded unseen.</summary>
    public bool DisposeEvictedValues { get; init; }
}
