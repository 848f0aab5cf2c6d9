using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace IntervalNotifier;

// The per-thread caches in front of the shared pool: finding the calling thread's, refilling it
// in batches, spilling it back, and taking over the records of threads that have ended.
public sealed partial class FinishRecordPool<T>
{
    void IFinishRecordPool.SpillAll(RecordCache cache)
    {
        Debug.Assert(cache.Owner == Thread.CurrentThread && ReferenceEquals(cache.Pool, this));
        int count = cache.Count;
        for (int i = 0; i < count; i++)
        {
            _shared.Return(Unsafe.As<T>(cache.Items[i].Record)!);
            cache.Items[i].Record = null;
        }

        cache.Count = 0;
        Interlocked.Add(ref _available, count);
    }

    // The slow return: to the shared pool, and — when another thread asked — the whole cache
    // with it. `cache` is null for a return on a thread that has no cache of this pool at hand.
    private void Spill(RecordCache? cache, T record)
    {
        _shared.Return(record);
        Interlocked.Increment(ref _available);
        if (cache is not null && Volatile.Read(ref _demand) != 0)
        {
            Volatile.Write(ref _demand, 0);
            ((IFinishRecordPool)this).SpillAll(cache);
        }
    }

    // The calling thread's cache, made on its first rent (a rent needs one: it pops from it).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private RecordCache CacheOfCallingThread(Thread? callingThread) => FindCache(callingThread) ?? Bind();

    // The calling thread's cache if it has one at hand, or null (a return then goes to the shared
    // pool: a thread that only returns — an asynchronous finish's continuation, say — makes none).
    // Compared by thread object, not by managed id: ids of ended threads are reused, and the
    // ended home thread's records may be reclaimed by another thread at any time.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private RecordCache? FindCache(Thread? callingThread)
    {
        Debug.Assert(callingThread is null || callingThread == Thread.CurrentThread, "The core passed a thread other than the calling one.");
        RecordCache? home = _home;
        return home is not null && ReferenceEquals(home.Owner, callingThread ?? Thread.CurrentThread)
            ? home
            : RecordCaches.Find(this);
    }

    // The calling thread's first rent on this pool, or the first since its cache fell out of
    // its slots. The first thread — or the first after the home thread ended — becomes home.
    private RecordCache Bind()
    {
        RecordCache? cache = null;
        lock (_caches)
        {
            for (int i = _caches.Count - 1; i >= 0; i--)
            {
                RecordCache c = _caches[i];
                if (c.Owner == Thread.CurrentThread)
                {
                    cache = c;
                }
                else if (c.Count == 0 && !c.Owner.IsAlive)
                {
                    Forget(i); // an ended thread's empty cache: only its count is kept
                }
            }

            if (cache is null)
            {
                cache = new RecordCache(this, Math.Min(_capacity, MaxCacheSize));
                _caches.Add(cache);
            }

            if (_home is null || !_home.Owner.IsAlive)
            {
                Volatile.Write(ref _home, cache); // no live thread matches the old home's owner
                return cache; // the home cache needs no slot
            }
        }

        // A thread that uses more pools than it has slots for spills the one it used least recently.
        if (RecordCaches.Install(cache) is { } evicted)
        {
            evicted.Pool.SpillAll(evicted);
        }

        return cache;
    }

    // Drops the cache at `index` (of an ended thread, with no free record) from the list, keeping
    // its rented count, so that the list holds live threads' caches and ended ones with records.
    private void Forget(int index)
    {
        Debug.Assert(Monitor.IsEntered(_caches));
        RecordCache cache = _caches[index];
        Interlocked.Add(ref _rentedOutsideCaches, cache.Rented);
        _caches.RemoveAt(index);
        if (_home == cache)
        {
            Volatile.Write(ref _home, null);
        }
    }

    // The cache is empty: take a batch from the shared pool (charging the bound once), or the
    // records of threads that have ended. False when no record is free to this thread.
    private bool Refill(RecordCache cache)
    {
        int available = Volatile.Read(ref _available);
        while (available > 0)
        {
            int take = Math.Min(available, _refillBatch);
            int seen = Interlocked.CompareExchange(ref _available, available - take, available);
            if (seen == available)
            {
                int taken = 0;
                try
                {
                    for (; taken < take; taken++)
                    {
                        T record = _shared.Get(); // creates one if a reset failed earlier: the factory may throw
                        cache.Items[cache.Count++].Record = record;
                    }
                }
                catch
                {
                    Interlocked.Add(ref _available, take - taken); // the batch's untaken part is free again
                    throw;
                }

                return true;
            }

            available = seen;
        }

        return ReclaimFromEndedThreads(cache);
    }

    private bool ReclaimFromEndedThreads(RecordCache cache)
    {
        bool othersHoldRecords = false;
        lock (_caches)
        {
            for (int i = _caches.Count - 1; i >= 0; i--)
            {
                RecordCache other = _caches[i];
                if (other == cache || other.Count == 0)
                {
                    continue;
                }

                if (other.Owner.IsAlive)
                {
                    othersHoldRecords = true;
                    continue;
                }

                // Its thread has ended: nothing else can touch its records any more.
                while (other.Count > 0 && cache.Count < cache.Items.Length)
                {
                    cache.Items[cache.Count++].Record = other.Items[--other.Count].Record;
                    other.Items[other.Count].Record = null;
                }

                if (other.Count == 0)
                {
                    Forget(i);
                }
            }
        }

        if (cache.Count == 0 && othersHoldRecords)
        {
            Volatile.Write(ref _demand, 1);
        }

        return cache.Count != 0;
    }
}
