using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace IntervalNotifier;

// The per-thread caches in front of the shared pool: finding the calling thread's, pushing a
// returned record onto it, spilling it back, and dropping the caches of threads that have ended.
// The steal protocol that lets other threads take records from a cache is explained in RecordCache.
public sealed partial class FinishRecordPool<T>
{
    void IFinishRecordPool.SpillAll(RecordCache cache)
    {
        Debug.Assert(cache.Owner == Thread.CurrentThread && cache.PoolId == _id);

        // Under the lock: a rent that is deciding whether every record is out must never see
        // records on their way from a cache to the shared pool, in neither place.
        lock (_caches)
        {
            AssertInvariants();
            int count = cache.Count;
            for (int i = 0; i < count; i++)
            {
                _shared.Return(Unsafe.As<T>(cache.Items[i].Record)!);
                cache.Items[i].Record = null;
            }

            cache.Count = 0;
            Interlocked.Add(ref _available, count);
        }
    }

    // The owner pushes a returned record onto its cache; false when the cache is full. The
    // fast path, unless a stealer has frozen the cache: then under the lock.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryPush(RecordCache cache, T record)
    {
        if (!cache.TryEnter())
        {
            return PushLocked(cache, record);
        }

        int count = cache.Count;
        bool room = count < cache.Items.Length;
        if (room)
        {
            cache.Items[count].Record = record;
            cache.Count = count + 1;
        }

        cache.Exit();
        return room;
    }

    private bool PushLocked(RecordCache cache, T record)
    {
        lock (_caches)
        {
            AssertInvariants();
            if (cache.Count == cache.Items.Length)
            {
                return false;
            }

            cache.Items[cache.Count++].Record = record;
            return true;
        }
    }

    // The slow return: to the shared pool. The record counts as rented until the increment.
    private void ReturnToShared(T record)
    {
        _shared.Return(record);
        Interlocked.Increment(ref _available);
    }

    // The calling thread's cache, made on its first rent (a rent needs one: it pops from it).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private RecordCache CacheOfCallingThread(Thread? callingThread) => FindCache(callingThread) ?? Bind();

    // The calling thread's cache if it has one at hand, or null (a return then goes to the shared
    // pool: a thread that only returns — an asynchronous finish's continuation, say — makes none).
    // Compared by thread object, not by managed id: ids of ended threads are reused, and the
    // ended home thread's records may be taken by another thread at any time.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private RecordCache? FindCache(Thread? callingThread)
    {
        Debug.Assert(callingThread is null || callingThread == Thread.CurrentThread, "The core passed a thread other than the calling one.");
        RecordCache? home = _home;
        return home is not null && ReferenceEquals(home.Owner, callingThread ?? Thread.CurrentThread)
            ? home
            : RecordCaches.Find(_id);
    }

    // The calling thread's first rent on this pool, or the first since its cache fell out of
    // its slots. The first thread — or the first after the home thread ended — becomes home.
    private RecordCache Bind()
    {
        RecordCache? cache = null;
        lock (_caches)
        {
            AssertInvariants();
            for (int i = _caches.Count - 1; i >= 0; i--)
            {
                RecordCache c = _caches[i];
                if (c.Owner == Thread.CurrentThread)
                {
                    cache = c;
                }
                else if (!c.Owner.IsAlive && Volatile.Read(ref c.Count) == 0)
                {
                    // In this order: a live thread may push and then end between the two reads.
                    Forget(i); // an ended thread's empty cache: only its count is kept
                }
            }

            if (cache is null)
            {
                cache = new RecordCache(this, _id, Math.Min(_capacity, MaxCacheSize));
                _caches.Add(cache);
            }

            if (_home is null || !_home.Owner.IsAlive)
            {
                Volatile.Write(ref _home, cache); // no live thread matches the old home's owner
                return cache; // the home cache needs no slot
            }
        }

        // A thread that uses more pools than it has slots for spills the cache it installed
        // longest ago (a lookup does not reorder the slots), unless that pool has been
        // collected: then its records are released.
        if (RecordCaches.Install(cache) is { } evicted && evicted.TryGetPool(out IFinishRecordPool? pool))
        {
            pool.SpillAll(evicted);
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

    // The fields against each other; under the lock.
    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(Monitor.IsEntered(_caches));
        int available = Volatile.Read(ref _available);
        Debug.Assert(available >= 0 && available <= _capacity, $"the shared pool claims {available} of {_capacity} records");
        foreach (RecordCache cache in _caches)
        {
            int count = Volatile.Read(ref cache.Count);
            Debug.Assert(count >= 0 && count <= cache.Items.Length, $"a cache claims {count} records");
        }
    }
}
