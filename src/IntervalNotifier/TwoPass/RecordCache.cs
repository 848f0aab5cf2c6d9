using System.Diagnostics;

namespace IntervalNotifier;

/// <summary>
/// One thread's free records of one <see cref="FinishRecordPool{T}"/>: the pool's fast path.
/// While its thread lives, only that thread touches <see cref="Items"/> and <see cref="Count"/>,
/// so renting and returning through it take no atomic operation and touch no cache line another
/// thread writes; once it has ended, another thread may take its records (under the pool's lock).
/// </summary>
/// <remarks>
/// A thread gets a cache at its first rent on a pool, listed in the pool (which sums
/// <see cref="Rented"/> over them, reclaims the records of threads that have ended, and drops
/// their emptied caches). The pool's first thread finds its cache as the pool's home cache; the
/// others through <see cref="RecordCaches"/>.
/// </remarks>
[DebuggerDisplay("Count = {Count}, Rented = {Rented}")]
internal sealed class RecordCache(IFinishRecordPool pool, int size)
{
    /// <summary>The pool whose records these are.</summary>
    internal readonly IFinishRecordPool Pool = pool;

    /// <summary>The thread that owns the cache; once it has ended, its records may be reclaimed.</summary>
    internal readonly Thread Owner = Thread.CurrentThread;

    /// <summary>The owner's managed thread id (read without a call: records remember who rented them).</summary>
    internal readonly int OwnerId = Environment.CurrentManagedThreadId;

    /// <summary>
    /// The free records, a stack: the last returned is the next rented. Wrapped in a struct so
    /// that storing one is a plain store: an array of a non-sealed class type would check the
    /// element's type on every store (about as costly as the atomic operation this cache saves).
    /// Slots above <see cref="Count"/> may keep a stale reference; the records are the pool's anyway.
    /// </summary>
    internal readonly Slot[] Items = new Slot[size];

    /// <summary>How many of <see cref="Items"/> hold a record.</summary>
    internal int Count;

    /// <summary>
    /// The records this thread rented minus those it returned (of any thread's renting): the
    /// pool's <c>Rented</c> is the sum over its caches. Written by the owner only.
    /// </summary>
    internal int Rented;
}

/// <summary>One slot of a <see cref="RecordCache"/>.</summary>
internal struct Slot
{
    /// <summary>The free record.</summary>
    public FinishRecord? Record;
}

/// <summary>Where a thread finds its <see cref="RecordCache"/> for a pool: a few slots per thread.</summary>
internal static class RecordCaches
{
    /// <summary>Pools a thread keeps a cache for at once; using more evicts (spills) the oldest.</summary>
    internal const int SlotsPerThread = 4;

    [ThreadStatic]
    private static RecordCache?[]? t_slots;

    [ThreadStatic]
    private static RecordCache? t_last;

    /// <summary>The calling thread's cache for <paramref name="pool"/>, or <see langword="null"/> when it has none in its slots.</summary>
    /// <param name="pool">The pool.</param>
    /// <returns>The cache.</returns>
    internal static RecordCache? Find(IFinishRecordPool pool)
    {
        RecordCache? last = t_last;
        if (last is not null && ReferenceEquals(last.Pool, pool))
        {
            return last; // the common case: one pool in use on this thread
        }

        RecordCache?[]? slots = t_slots;
        if (slots is not null)
        {
            for (int i = 0; i < slots.Length; i++)
            {
                RecordCache? cache = slots[i];
                if (cache is null)
                {
                    break;
                }

                if (ReferenceEquals(cache.Pool, pool))
                {
                    t_last = cache;
                    return cache;
                }
            }
        }

        return null;
    }

    /// <summary>Puts <paramref name="cache"/> in the calling thread's first slot; returns the cache evicted, if any.</summary>
    /// <param name="cache">The calling thread's cache of some pool.</param>
    /// <returns>The cache that fell out of the slots (its owner spills it), or <see langword="null"/>.</returns>
    internal static RecordCache? Install(RecordCache cache)
    {
        Debug.Assert(cache.Owner == Thread.CurrentThread);
        RecordCache?[] slots = t_slots ??= new RecordCache?[SlotsPerThread];
        RecordCache? evicted = slots[^1];
        Array.Copy(slots, 0, slots, 1, slots.Length - 1);
        slots[0] = cache;
        t_last = cache;
        return evicted;
    }
}
