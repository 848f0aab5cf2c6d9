using System.Diagnostics;

namespace IntervalNotifier;

/// <summary>
/// Where a thread finds its <see cref="RecordCache"/> for a pool: a few slots per thread. The
/// slots hold caches, never pools (a cache refers to its pool weakly), so that a live thread
/// does not keep a pool it once used from being collected.
/// </summary>
internal static class RecordCaches
{
    /// <summary>Pools a thread keeps a cache for at once; using more evicts (spills) the oldest.</summary>
    internal const int SlotsPerThread = 4;

    private static long s_nextPoolId;

    [ThreadStatic]
    private static RecordCache?[]? t_slots;

    [ThreadStatic]
    private static RecordCache? t_last;

    /// <summary>A new pool's identity in the slots: never reused, so a collected pool's caches match no pool.</summary>
    /// <returns>The id.</returns>
    internal static long NewPoolId() => Interlocked.Increment(ref s_nextPoolId);

    /// <summary>The calling thread's cache for the pool <paramref name="poolId"/>, or <see langword="null"/> when it has none in its slots.</summary>
    /// <param name="poolId">The pool's id.</param>
    /// <returns>The cache.</returns>
    internal static RecordCache? Find(long poolId)
    {
        RecordCache? last = t_last;
        if (last is not null && last.PoolId == poolId)
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

                if (cache.PoolId == poolId)
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
