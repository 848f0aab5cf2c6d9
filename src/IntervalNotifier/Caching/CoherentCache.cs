using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace IntervalNotifier.Caching;

/// <summary>
/// A cache of values derived from ranges of an <see cref="AddressSpace"/> — decoded textures,
/// compiled code, parsed structures — that stays coherent with the memory it was derived from
/// (docs/contract.md §10): when a begin of an invalidation returns, no entry overlapping its
/// range is left, and no production that overlapped it will be cached or returned.
/// </summary>
/// <typeparam name="TValue">The cached value type.</typeparam>
/// <remarks>
/// <para>
/// Entries are keyed by their range <c>[start, start + length - 1]</c>; entries may overlap.
/// A lookup that misses runs the caller's factory outside every lock — the §3 fault path, done
/// here: if an invalidation overlapping the key begins while the factory runs, the value is
/// thrown away and produced again. Concurrent lookups of one key produce once; the others wait
/// for that production.
/// </para>
/// <para>
/// Subscriptions are the cache's business: it subscribes aligned regions of
/// <see cref="CoherentCacheOptions.Granularity"/> bytes (one per region in use, reused by every
/// entry and production in it), and drops idle regions with
/// <see cref="IntervalSubscription.UnsubscribeDeferred"/>, never waiting. A miss waits only for
/// invalidations that overlap its own key (or, on a region's first use while invalidations are
/// running, for those: the new subscription must assume it is inside them).
/// </para>
/// <para>
/// Hits are lock-free and allocate nothing. A hit while invalidations of its range never stop
/// is never starved; a miss can be: its production is retried for as long as invalidations
/// overlap it. Pass a <see cref="CancellationToken"/> to bound it; the
/// <c>intervalnotifier.cache.retries</c> and <c>intervalnotifier.cache.invalidation_waits</c>
/// metrics show it happening.
/// </para>
/// <para>
/// Do not look up from inside a callback of the same address space: a miss that must wait for
/// the running invalidation throws <see cref="InvalidOperationException"/>, as a
/// <see cref="IntervalSubscription.ReadBegin"/> there would.
/// </para>
/// </remarks>
[DebuggerDisplay("Count = {Count}, Regions = {RegionCount}")]
[SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The GetOrAdd overloads differ by a required parameter (the factory's state), so no call is ambiguous.")]
public sealed partial class CoherentCache<TValue> : IDisposable, IAsyncDisposable
{
    /// <summary>Idle regions (no entry, no production) whose subscriptions are kept for reuse; beyond this many the oldest are dropped.</summary>
    internal const int MaxIdleRegions = 256;

    // The cache's lock: guards everything below but the entries' dictionary reads. Taken by the
    // regions' callbacks (with no address-space lock held: the core never calls user code under
    // it), and held around Subscribe and UnsubscribeDeferred (which take the address space's
    // lock and never call user code): the order is always cache lock, then space lock.
    private readonly object _sync = new();
    private readonly AddressSpace _space;
    private readonly ulong _granularity;
    private readonly long _sizeLimit;
    private readonly bool _disposeEvicted;
    private readonly CacheMetrics _metrics;

    // The entries: read lock-free by hits, written only under _sync.
    private readonly ConcurrentDictionary<CacheKey, CacheEntry<TValue>> _entries = new();

    // The productions running, by key; each is also listed in the regions it spans.
    private readonly Dictionary<CacheKey, Production<TValue>> _productions = [];

    // The regions in use or kept idle, by index (address / granularity).
    private readonly Dictionary<ulong, CacheRegion<TValue>> _regions = [];

    // The idle regions, oldest first: dropped beyond MaxIdleRegions.
    private readonly LinkedList<CacheRegion<TValue>> _idle = [];

    // The entries in a ring for the CLOCK eviction (second chance on CacheEntry.Accessed); the
    // hand is the next entry to look at.
    private CacheEntry<TValue>? _hand;

    private int _count;
    private bool _disposed;

    /// <summary>Creates a cache over <paramref name="space"/>.</summary>
    /// <param name="space">The address space whose ranges the values are derived from.</param>
    /// <param name="options">Granularity, size limit, disposal of evicted values and the metrics name; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="space"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The options' <see cref="CoherentCacheOptions.SizeLimit"/> is less than 1.</exception>
    public CoherentCache(AddressSpace space, CoherentCacheOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(space);
        options ??= new CoherentCacheOptions();
        if (options.SizeLimit is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.SizeLimit, "SizeLimit must be at least 1 entry (or null for no limit).");
        }

        _space = space;
        _granularity = options.Granularity == 0 ? CoherentCacheOptions.DefaultGranularity : options.Granularity;
        _sizeLimit = options.SizeLimit ?? long.MaxValue;
        _disposeEvicted = options.DisposeEvictedValues;
        _metrics = new CacheMetrics(options.Name ?? CacheMetrics.DefaultName(typeof(TValue).Name));
    }

    /// <summary>
    /// Reports each entry that leaves the cache, with its reason — raised outside every lock of
    /// the cache, after the entry is gone and before its value is disposed (if the options say
    /// so). For <see cref="EvictionReason.Invalidated"/> it is raised inside the invalidation's
    /// callback, on the invalidating thread, before its begin returns: keep it short, and do not
    /// wait there for invalidations of the same address space.
    /// </summary>
    /// <remarks>An exception thrown by a handler is rethrown to the operation that evicted (for an invalidation: its begin), once every eviction of that operation is reported.</remarks>
    public event EventHandler<CacheEviction<TValue>>? Evicted;

    /// <summary>The entries in the cache.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The address space the cache follows.</summary>
    public AddressSpace Space => _space;

    /// <summary>The bytes one of the cache's subscriptions covers.</summary>
    public ulong Granularity => _granularity;

    /// <summary>Idle regions kept for reuse (<see cref="MaxIdleRegions"/>); tests lower it to drop regions as soon as they fall idle.</summary>
    internal int IdleRegionLimit { get; set; } = MaxIdleRegions;

    /// <summary>A planted bug for the tests' controls: publish without the retry check (a production an invalidation interrupted is cached).</summary>
    internal bool PlantedBugSkipsRetryCheck { get; set; }

    /// <summary>The regions (subscriptions) the cache holds, in use or idle; for diagnostics.</summary>
    internal int RegionCount
    {
        get
        {
            lock (_sync)
            {
                return _regions.Count;
            }
        }
    }

    /// <summary>
    /// The value for <c>[start, start + length - 1]</c>: the cached one, or one produced by
    /// <paramref name="factory"/> and cached — never one produced while an overlapping
    /// invalidation began (that one is produced again). Concurrent calls for one key produce once.
    /// </summary>
    /// <param name="start">The first address of the range.</param>
    /// <param name="length">The number of addresses; at least 1, not past <c>2^64 - 1</c>.</param>
    /// <param name="factory">Produces the value from the primary, given <paramref name="start"/> and <paramref name="length"/>; runs outside every lock, and may run more than once.</param>
    /// <param name="cancellationToken">Cancels waits for other productions and for invalidations, and retries; not passed to the factory.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is 0, or the range passes <c>2^64 - 1</c>.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while the lookup waited or retried.</exception>
    /// <exception cref="InvalidOperationException">The miss had to wait for an invalidation that the calling thread holds open (a lookup from inside a callback).</exception>
    /// <remarks>Whatever the factory throws reaches this caller and every caller waiting for the same production; nothing is cached then.</remarks>
    public TValue GetOrAdd(ulong start, ulong length, Func<ulong, ulong, TValue> factory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return GetOrAdd(start, length, static (s, l, f) => f(s, l), factory, cancellationToken);
    }

    /// <summary>As <see cref="GetOrAdd(ulong, ulong, Func{ulong, ulong, TValue}, CancellationToken)"/>, with a state for the factory (so that it need not capture one).</summary>
    /// <typeparam name="TState">The factory's state.</typeparam>
    /// <param name="start">The first address of the range.</param>
    /// <param name="length">The number of addresses; at least 1, not past <c>2^64 - 1</c>.</param>
    /// <param name="factory">Produces the value, given the range and <paramref name="state"/>; runs outside every lock, and may run more than once.</param>
    /// <param name="state">Passed to <paramref name="factory"/>.</param>
    /// <param name="cancellationToken">Cancels waits and retries.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is 0, or the range passes <c>2^64 - 1</c>.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while the lookup waited or retried.</exception>
    /// <exception cref="InvalidOperationException">The miss had to wait for an invalidation that the calling thread holds open.</exception>
    public TValue GetOrAdd<TState>(ulong start, ulong length, Func<ulong, ulong, TState, TValue> factory, TState state, CancellationToken cancellationToken = default)
    {
        CacheKey key = CacheKey.Create(start, length);
        ArgumentNullException.ThrowIfNull(factory);
        if (_entries.TryGetValue(key, out CacheEntry<TValue>? entry))
        {
            entry.Touch();
            _metrics.Hit();
            return entry.Value;
        }

        return Miss(key, factory, state, cancellationToken);
    }

    /// <summary>The awaitable form of <see cref="GetOrAdd{TState}"/>: waits and productions are awaited; a hit completes synchronously without allocating.</summary>
    /// <param name="start">The first address of the range.</param>
    /// <param name="length">The number of addresses; at least 1, not past <c>2^64 - 1</c>.</param>
    /// <param name="factory">Produces the value, given the range and <paramref name="cancellationToken"/>; may run more than once.</param>
    /// <param name="cancellationToken">Cancels waits and retries, and is passed to the factory (a production it cancels caches nothing, and another waiter takes over).</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is 0, or the range passes <c>2^64 - 1</c>.</exception>
    /// <exception cref="ObjectDisposedException">The cache is disposed.</exception>
    /// <exception cref="InvalidOperationException">The miss had to wait for an invalidation that the calling thread holds open.</exception>
    public ValueTask<TValue> GetOrAddAsync(ulong start, ulong length, Func<ulong, ulong, CancellationToken, ValueTask<TValue>> factory, CancellationToken cancellationToken = default)
    {
        CacheKey key = CacheKey.Create(start, length);
        ArgumentNullException.ThrowIfNull(factory);
        if (_entries.TryGetValue(key, out CacheEntry<TValue>? entry))
        {
            entry.Touch();
            _metrics.Hit();
            return new ValueTask<TValue>(entry.Value);
        }

        return MissAsync(key, factory, cancellationToken);
    }

    /// <summary>The cached value for <c>[start, start + length - 1]</c>, if there is one; never produces. Lock-free; allocates nothing.</summary>
    /// <param name="start">The first address of the range.</param>
    /// <param name="length">The number of addresses.</param>
    /// <param name="value">The value, when found.</param>
    /// <returns>Whether the cache holds an entry for exactly that range.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is 0, or the range passes <c>2^64 - 1</c>.</exception>
    public bool TryGetValue(ulong start, ulong length, [MaybeNullWhen(false)] out TValue value)
    {
        if (_entries.TryGetValue(CacheKey.Create(start, length), out CacheEntry<TValue>? entry))
        {
            entry.Touch();
            _metrics.Hit();
            value = entry.Value;
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>Removes the entry for exactly <c>[start, start + length - 1]</c>, reporting it as <see cref="EvictionReason.Removed"/>.</summary>
    /// <param name="start">The first address of the range.</param>
    /// <param name="length">The number of addresses.</param>
    /// <returns>Whether there was such an entry.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is 0, or the range passes <c>2^64 - 1</c>.</exception>
    public bool Remove(ulong start, ulong length)
    {
        CacheKey key = CacheKey.Create(start, length);
        CacheEntry<TValue>? removed;
        lock (_sync)
        {
            if (!_entries.TryGetValue(key, out removed))
            {
                return false;
            }

            RemoveEntryLocked(removed);
        }

        // After the lock: the handler is user code, and may look up again.
        Report([removed], EvictionReason.Removed);
        return true;
    }
}
