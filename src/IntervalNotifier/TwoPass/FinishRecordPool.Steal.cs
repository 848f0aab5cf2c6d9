using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace IntervalNotifier;

// The slow rent: the calling thread's cache is empty (or frozen by a stealer). It takes the
// records returned on other threads, or a record from the shared pool, or else records from the
// other threads' caches, and fails only when every record is out. The steal protocol is explained in RecordCache.
public sealed partial class FinishRecordPool<T>
{
    private bool RentSlow(RecordCache cache, [NotNullWhen(true)] out T? record)
    {
        if (!_returned.IsEmpty)
        {
            FinishRecord? takenEarly = PlantedTakesReturnedOutsideLock ? _returned.TakeAll() : null;
            lock (_caches)
            {
                AssertInvariants();

                // Under the lock no stealer touches this thread's cache: plain pushes and pops.
                TakeReturned(cache, takenEarly);
                if (cache.Count != 0)
                {
                    T popped = Unsafe.As<T>(cache.Items[--cache.Count].Record)!;
                    return Lend(cache, popped, out record);
                }
            }
        }

        bool fromShared = TryTakeShared();
        if (!fromShared)
        {
            lock (_caches)
            {
                AssertInvariants();

                // Under the lock no stealer touches this thread's cache: plain pops.
                if (cache.Count != 0 || Steal(cache, out fromShared))
                {
                    T popped = Unsafe.As<T>(cache.Items[--cache.Count].Record)!;
                    return Lend(cache, popped, out record);
                }
            }

            if (!fromShared)
            {
                return Fail(out record);
            }
        }

        // Outside the lock: the shared pool creates a record in place of one whose reset
        // failed, and the factory is user code that might rent from this pool.
        T taken;
        try
        {
            taken = _shared.Get();
        }
        catch
        {
            Interlocked.Increment(ref _available); // the place stays free for the next rent
            throw;
        }

        return Lend(cache, taken, out record);
    }

    // Claims one record of the shared pool; the caller then takes it with _shared.Get().
    private bool TryTakeShared()
    {
        int available = Volatile.Read(ref _available);
        while (available > 0)
        {
            int seen = Interlocked.CompareExchange(ref _available, available - 1, available);
            if (seen == available)
            {
                return true;
            }

            available = seen;
        }

        return false;
    }

    // Moves the stack of records returned on other threads into `cache` (the calling thread's),
    // releasing their holds; what does not fit goes to the shared pool. Under the lock, so that
    // a stealer sees every record on the stack or in a cache. Whether any was moved.
    private bool TakeReturned(RecordCache cache, FinishRecord? takenEarly = null)
    {
        Debug.Assert(Monitor.IsEntered(_caches) && cache.Owner == Thread.CurrentThread);
        FinishRecord? next = takenEarly ?? _returned.TakeAll();
        bool any = next is not null;
        int spilled = 0;
        while (next is not null)
        {
            FinishRecord record = next;
            next = record._next;
            record._next = null;
            record.ReleaseHold(); // rentable from here on
            if (cache.Count < cache.Items.Length)
            {
                cache.Items[cache.Count++].Record = record;
            }
            else
            {
                _shared.Return(Unsafe.As<T>(record)); // only this pool's records are on its stack
                spilled++;
            }
        }

        if (spilled != 0)
        {
            Interlocked.Add(ref _available, spilled);
        }

        return any;
    }

    // Moves free records of other threads' caches into `cache` (empty, the calling thread's):
    // all of an ended thread's, half of a live one's (at least one). Freezes every other cache
    // first, so that — with the lock held and no cache able to change — "no record in any cache
    // and none in the shared pool" is a snapshot, and a failure means every record is out. When
    // no cache holds one, claims a record that reached the shared pool meanwhile, if any.
    private bool Steal(RecordCache cache, out bool fromShared)
    {
        Debug.Assert(Monitor.IsEntered(_caches) && cache.Count == 0 && cache.Owner == Thread.CurrentThread);
        fromShared = false;
        if (TakeReturned(cache))
        {
            return true; // records returned on other threads meanwhile: no cache needs freezing
        }

        bool othersLive = false;
        foreach (RecordCache other in _caches)
        {
            if (other != cache)
            {
                other.Freeze();
                othersLive |= other.Owner.IsAlive;
            }
        }

        try
        {
            if (othersLive)
            {
                // Stands in for the fence that the owners' fast paths leave out (RecordCache).
                Interlocked.MemoryBarrierProcessWide();
            }

            for (int i = _caches.Count - 1; i >= 0; i--)
            {
                RecordCache other = _caches[i];
                if (other == cache)
                {
                    continue;
                }

                other.AwaitOwnerOut();
                bool ended = !other.Owner.IsAlive;
                int take = ended ? other.Count : cache.Count == 0 ? (other.Count + 1) / 2 : 0;
                take = Math.Min(take, cache.Items.Length - cache.Count);
                for (int n = 0; n < take; n++)
                {
                    cache.Items[cache.Count++].Record = other.Items[--other.Count].Record;
                    other.Items[other.Count].Record = null;
                }

                if (ended && other.Count == 0)
                {
                    other.Thaw();
                    Forget(i);
                }
            }

            if (cache.Count == 0)
            {
                fromShared = TryTakeShared();
            }

            return cache.Count != 0;
        }
        finally
        {
            foreach (RecordCache other in _caches)
            {
                other.Thaw();
            }
        }
    }
}
