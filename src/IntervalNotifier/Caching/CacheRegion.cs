using IntervalNotifier.Collections;

namespace IntervalNotifier.Caching;

/// <summary>
/// One aligned region of a <see cref="CoherentCache{TValue}"/>: the subscription that covers it,
/// and the entries and productions whose keys overlap it. Guarded by the cache's lock.
/// </summary>
/// <typeparam name="TValue">The cached value type.</typeparam>
internal sealed class CacheRegion<TValue> : IIntervalInvalidator
{
    private readonly CoherentCache<TValue> _cache;

    /// <summary>Creates the region <paramref name="index"/> of <paramref name="cache"/> (not subscribed yet).</summary>
    /// <param name="cache">The cache.</param>
    /// <param name="index">The region's index: its first address divided by the granularity.</param>
    public CacheRegion(CoherentCache<TValue> cache, ulong index)
    {
        _cache = cache;
        Index = index;
        IdleNode = new LinkedListNode<CacheRegion<TValue>>(this);
    }

    /// <summary>The region's index: its first address divided by the granularity.</summary>
    public ulong Index { get; }

    /// <summary>The region's subscription; set right after it is made.</summary>
    public IntervalSubscription Subscription { get; set; } = null!;

    /// <summary>
    /// The address space's odd sequence when the subscription was made during running
    /// invalidations (its <c>s</c> was that sequence), else 0: productions in the region wait for
    /// that odd period to end, since the new subscription must assume it is inside them (§5).
    /// </summary>
    public ulong BornInPeriod { get; set; }

    /// <summary>
    /// The entries whose keys overlap the region, indexed by their keys: an invalidation visits
    /// only the entries it overlaps, however many the region holds.
    /// </summary>
    public IntervalTree<CacheEntry<TValue>> Entries { get; } = new();

    /// <summary>The productions whose keys overlap the region.</summary>
    public List<Production<TValue>> Productions { get; } = [];

    /// <summary>
    /// The ranges invalidations hit in this region, with the odd sequence they ran under; those
    /// of an odd period that has ended are dropped as they are met. A production whose key
    /// overlaps one of the running period waits for the period to end: the primary is changing.
    /// </summary>
    public List<(ulong Start, ulong Last, ulong Sequence)> Invalidations { get; } = [];

    /// <summary>The region's node in the cache's list of idle regions (made once: listing it allocates nothing).</summary>
    public LinkedListNode<CacheRegion<TValue>> IdleNode { get; }

    /// <summary>The region was dropped (its subscription unsubscribed, deferred); callbacks still running find it so.</summary>
    public bool Dropped { get; set; }

    /// <summary>No entry and no production: the region may be dropped.</summary>
    public bool IsIdle => Entries.Count == 0 && Productions.Count == 0;

    /// <inheritdoc/>
    public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
    {
        _cache.OnInvalidate(this, subscription, range, currentSequence);
        return true; // never needs to wait: it takes the cache's short lock only
    }

    /// <summary>
    /// Records that an invalidation of <c>[start, last]</c> runs in the odd period
    /// <paramref name="sequence"/> (the address space's sequence now), dropping the records of
    /// periods that have ended. Past a few records of one period they are merged into one that
    /// covers them all (more waiting, never less), so that writers that keep a period open for
    /// ever cannot grow the list without bound.
    /// </summary>
    /// <param name="start">The first address invalidated.</param>
    /// <param name="last">The last address invalidated.</param>
    /// <param name="sequence">The invalidation's sequence.</param>
    public void NoteInvalidation(ulong start, ulong last, ulong sequence)
    {
        const int MergeBeyond = 8;
        bool merge = Invalidations.Count >= MergeBeyond;
        for (int i = Invalidations.Count - 1; i >= 0; i--)
        {
            (ulong s, ulong l, ulong ran) = Invalidations[i];
            if (ran != sequence || merge)
            {
                Invalidations.RemoveAt(i);
                if (ran == sequence)
                {
                    start = Math.Min(start, s);
                    last = Math.Max(last, l);
                }
            }
        }

        Invalidations.Add((start, last, sequence));
    }

    /// <summary>Whether an invalidation of the running odd period <paramref name="sequence"/> hit <paramref name="key"/> in this region; drops the records of ended periods.</summary>
    /// <param name="key">The key.</param>
    /// <param name="sequence">The address space's sequence now.</param>
    /// <returns>Whether the key must wait for the period to end.</returns>
    public bool HitInPeriod(CacheKey key, ulong sequence)
    {
        bool hit = false;
        for (int i = Invalidations.Count - 1; i >= 0; i--)
        {
            (ulong start, ulong last, ulong ran) = Invalidations[i];
            if (ran != sequence)
            {
                Invalidations.RemoveAt(i); // its period has ended: the primary's change is complete
            }
            else if (key.Overlaps(start, last))
            {
                hit = true;
            }
        }

        return hit;
    }
}
