using System.Diagnostics;
using System.Runtime.ExceptionServices;
using IntervalNotifier.Collections;

namespace IntervalNotifier.Caching;

// Regions and entries: the subscriptions the cache holds (one per aligned region in use, kept a
// while when idle, dropped with UnsubscribeDeferred), the regions' callback that drops what an
// invalidation overlaps, the CLOCK eviction for the size limit, reports of evictions, disposal.
public sealed partial class CoherentCache<TValue>
{
    /// <summary>The most regions one key may span: a larger key wants a coarser granularity.</summary>
    internal const ulong MaxRegionsPerKey = 65_536;

    // A region's callback (docs/contract.md §3): under the cache's lock — the mirror's lock of
    // the protocol — record the sequence, drop every entry that overlaps the range, mark every
    // production that overlaps it; then report the evictions outside the lock, before the begin
    // returns. Runs with no lock of the address space held.
    internal void OnInvalidate(CacheRegion<TValue> region, IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
    {
        List<CacheEntry<TValue>>? evicted = null;
        lock (_sync)
        {
            AssertInvariants();
            subscription.SetSequence(currentSequence);
            if (region.Dropped)
            {
                return; // a callback of a bracket open since before the drop: nothing left here
            }

            region.NoteInvalidation(range.Start, range.Last, currentSequence);
            foreach (Production<TValue> production in region.Productions)
            {
                if (production.Key.Overlaps(range.Start, range.Last))
                {
                    production.Invalidated = true;
                }
            }

            foreach (CacheEntry<TValue> entry in region.Entries.Overlapping(range.Start, range.Last))
            {
                (evicted ??= []).Add(entry);
            }

            if (evicted is not null)
            {
                foreach (CacheEntry<TValue> entry in evicted)
                {
                    RemoveEntryLocked(entry);
                }
            }
        }

        if (evicted is not null)
        {
            Report(evicted, EvictionReason.Invalidated);
        }
    }

    // The region `index`, made and subscribed on its first use (or taken off the idle list).
    private CacheRegion<TValue> RegionLocked(ulong index)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        if (_regions.TryGetValue(index, out CacheRegion<TValue>? region))
        {
            if (region.IdleNode.List is not null)
            {
                _idle.Remove(region.IdleNode);
            }

            return region;
        }

        region = new CacheRegion<TValue>(this, index);
        ulong first = index * _granularity;
        ulong last = _granularity - 1 > ulong.MaxValue - first ? ulong.MaxValue : first + (_granularity - 1);
        IntervalSubscription subscription = _space.SubscribeInclusive(first, last, region);
        region.Subscription = subscription;

        // Subscribed while invalidations run, its s is their odd S (§5): the region's productions
        // wait for that period to end, since the walks already running may not see it.
        ulong sequence = subscription.Sequence;
        if ((sequence & 1) != 0 && sequence == _space.Sequence)
        {
            region.BornInPeriod = sequence;
        }

        _regions.Add(index, region);
        return region;
    }

    private void MarkIdleLocked(CacheRegion<TValue> region)
    {
        Debug.Assert(Monitor.IsEntered(_sync) && region.IsIdle);
        if (region.IdleNode.List is null)
        {
            _idle.AddLast(region.IdleNode);
        }

        while (_idle.Count > IdleRegionLimit)
        {
            CacheRegion<TValue> oldest = _idle.First!.Value;
            _idle.RemoveFirst();
            _regions.Remove(oldest.Index);
            oldest.Dropped = true;
            oldest.Subscription.UnsubscribeDeferred(); // never waits: also from inside a callback
        }
    }

    private void AddEntryLocked(CacheEntry<TValue> entry)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        _entries[entry.Key] = entry;
        ulong first = entry.Key.Start / _granularity;
        ulong last = entry.Key.Last / _granularity;
        if (last != first)
        {
            entry.MoreHandles = new IntervalTreeHandle[last - first];
        }

        for (ulong index = first; ; index++)
        {
            // The production held the region: it exists.
            IntervalTreeHandle handle = _regions[index].Entries.Insert(entry.Key.Start, entry.Key.Last, entry);
            if (index == first)
            {
                entry.FirstHandle = handle;
            }
            else
            {
                entry.MoreHandles![index - first - 1] = handle;
            }

            if (index == last)
            {
                break;
            }
        }

        // Into the ring just behind the hand: the last the hand looks at.
        if (_hand is null)
        {
            entry.Next = entry.Previous = entry;
            _hand = entry;
        }
        else
        {
            entry.Next = _hand;
            entry.Previous = _hand.Previous;
            _hand.Previous!.Next = entry;
            _hand.Previous = entry;
        }

        Volatile.Write(ref _count, _count + 1);
    }

    private void RemoveEntryLocked(CacheEntry<TValue> entry)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        _entries.TryRemove(entry.Key, out _);
        if (entry.Next == entry)
        {
            _hand = null;
        }
        else
        {
            entry.Previous!.Next = entry.Next;
            entry.Next!.Previous = entry.Previous;
            if (_hand == entry)
            {
                _hand = entry.Next;
            }
        }

        entry.Next = entry.Previous = null;
        Volatile.Write(ref _count, _count - 1);
        ulong first = entry.Key.Start / _granularity;
        for (ulong index = first; ; index++)
        {
            IntervalTreeHandle handle = index == first ? entry.FirstHandle : entry.MoreHandles![index - first - 1];
            if (_regions.TryGetValue(index, out CacheRegion<TValue>? region) && region.Entries.Remove(handle) && region.IsIdle)
            {
                MarkIdleLocked(region);
            }

            if (index == entry.Key.Last / _granularity)
            {
                break;
            }
        }
    }

    // CLOCK: the hand skips (and unmarks) entries used since it last passed, and evicts the first
    // that was not; after two turns it evicts regardless (hits racing the hand cannot hold it).
    private List<CacheEntry<TValue>> EvictForCapacityLocked()
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        var evicted = new List<CacheEntry<TValue>>();
        long patience = 2L * _count;
        while (_count > _sizeLimit)
        {
            CacheEntry<TValue> candidate = _hand!;
            if (patience-- > 0 && candidate.TakeAccessed())
            {
                _hand = candidate.Next;
                continue;
            }

            evicted.Add(candidate);
            RemoveEntryLocked(candidate);
        }

        return evicted;
    }

    // Outside every lock of the cache: the handlers are user code (they may look up again). Every
    // eviction is reported, and its value disposed if the options say so, before the first
    // exception a handler threw is rethrown.
    private void Report(List<CacheEntry<TValue>> evicted, EvictionReason reason)
    {
        _metrics.Evicted(evicted.Count, reason);
        EventHandler<CacheEviction<TValue>>? handler = Evicted;
        ExceptionDispatchInfo? failure = null;
        foreach (CacheEntry<TValue> entry in evicted)
        {
            try
            {
                handler?.Invoke(this, new CacheEviction<TValue>(entry.Key.Start, entry.Key.Length, entry.Value, reason));
            }
            catch (Exception exception)
            {
                failure ??= ExceptionDispatchInfo.Capture(exception);
            }

            try
            {
                DiscardUnseen(entry.Value);
            }
            catch (Exception exception)
            {
                failure ??= ExceptionDispatchInfo.Capture(exception);
            }
        }

        failure?.Throw();
    }

    private void ThrowIfTooManyRegions(CacheKey key, string paramName)
    {
        if (key.Last / _granularity - key.Start / _granularity >= MaxRegionsPerKey)
        {
            throw new ArgumentOutOfRangeException(paramName, key.Length, $"The range spans more than {MaxRegionsPerKey} regions of {_granularity} bytes: give the cache a coarser CoherentCacheOptions.Granularity.");
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        Debug.Assert(_count == _entries.Count, "the count and the entries disagree");
        Debug.Assert(_idle.Count <= IdleRegionLimit, "too many idle regions kept");
    }

    /// <summary>
    /// Evicts every entry (<see cref="EvictionReason.Disposed"/>), unsubscribes every region, and
    /// returns when no callback of the cache runs any more. Productions still running are thrown
    /// away; lookups then throw <see cref="ObjectDisposedException"/>. A second call does nothing.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called from inside a callback of the address space while a region's removal must wait for it: the removals are queued (they happen at the end of the running invalidations) and the entries are evicted all the same.</exception>
    public void Dispose()
    {
        if (TakeEverything(out List<CacheEntry<TValue>> evicted, out List<CacheRegion<TValue>> regions))
        {
            try
            {
                foreach (CacheRegion<TValue> region in regions)
                {
                    region.Subscription.Dispose(); // waits for the queued removal: no callback after this
                }
            }
            finally
            {
                Report(evicted, EvictionReason.Disposed);
            }
        }
    }

    /// <summary>As <see cref="Dispose"/>, awaiting the removals instead of blocking.</summary>
    /// <returns>A task that completes when no callback of the cache runs any more.</returns>
    public async ValueTask DisposeAsync()
    {
        if (TakeEverything(out List<CacheEntry<TValue>> evicted, out List<CacheRegion<TValue>> regions))
        {
            try
            {
                foreach (CacheRegion<TValue> region in regions)
                {
                    await region.Subscription.DisposeAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                Report(evicted, EvictionReason.Disposed);
            }
        }
    }

    // Empties the cache under the lock and queues every region's removal (never waiting).
    private bool TakeEverything(out List<CacheEntry<TValue>> evicted, out List<CacheRegion<TValue>> regions)
    {
        lock (_sync)
        {
            if (_disposed)
            {
                evicted = [];
                regions = [];
                return false;
            }

            _disposed = true;
            evicted = [.. _entries.Values];
            _entries.Clear();
            _hand = null;
            Volatile.Write(ref _count, 0);
            regions = [.. _regions.Values];
            foreach (CacheRegion<TValue> region in regions)
            {
                region.Dropped = true;
                region.Subscription.UnsubscribeDeferred();
            }

            _regions.Clear();
            _idle.Clear();
            _productions.Clear(); // their producers find the cache disposed; their waiters start over and find it so
        }

        return true;
    }
}
