namespace IntervalNotifier.Caching;

/// <summary>Why an entry left a <see cref="CoherentCache{TValue}"/>.</summary>
public enum EvictionReason
{
    /// <summary>An invalidation overlapped its range: the value may be stale.</summary>
    Invalidated,

    /// <summary>The cache was over its <see cref="CoherentCacheOptions.SizeLimit"/>, and the entry had not been used recently.</summary>
    Capacity,

    /// <summary>Removed by <see cref="CoherentCache{TValue}.Remove"/>.</summary>
    Removed,

    /// <summary>The cache was disposed.</summary>
    Disposed,
}
