namespace IntervalNotifier.Caching;

/// <summary>An entry that left a <see cref="CoherentCache{TValue}"/>: what <see cref="CoherentCache{TValue}.Evicted"/> reports.</summary>
/// <typeparam name="TValue">The cached value type.</typeparam>
/// <param name="Start">The first address of the entry's range.</param>
/// <param name="Length">The number of addresses of the entry's range.</param>
/// <param name="Value">The value that was cached.</param>
/// <param name="Reason">Why it left.</param>
public readonly record struct CacheEviction<TValue>(ulong Start, ulong Length, TValue Value, EvictionReason Reason);
