using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace IntervalNotifier;

/// <summary>
/// One thread's free records of one <see cref="FinishRecordPool{T}"/>: the pool's fast path.
/// The owner pushes and pops <see cref="Items"/> with plain stores (no atomic operation, no cache
/// line another thread writes in steady state); another thread's rent may take records from it
/// at any time — the owner live and idle, blocked, or ended — under the steal protocol below.
/// </summary>
/// <remarks>
/// <para>
/// The steal protocol, an asymmetric Dekker exclusion between the owner and a stealer:
/// </para>
/// <code>
///   owner (push or pop, the fast path)        stealer (holds the pool's lock)
///   ---------------------------------         -------------------------------
///   ownerIn = 1                               frozen = 1            (each cache it may take from)
///   if frozen: ownerIn = 0,                   MemoryBarrierProcessWide()
///      redo the push or pop under the         wait until ownerIn == 0
///      pool's lock                            move records out of Items, Count
///   Items[Count], Count (plain)               frozen = 0
///   ownerIn = 0
/// </code>
/// <para>
/// The owner's store of <c>ownerIn</c> and its load of <c>frozen</c> have no fence between them:
/// the stealer's process-wide barrier stands in for it (it makes every thread run a full fence
/// at some point during the call). So either the owner's <c>ownerIn = 1</c> was visible before
/// that point and the stealer waits for the owner's <c>ownerIn = 0</c> (a release store after
/// its push or pop, which the stealer's acquire load then sees), or the owner's load of
/// <c>frozen</c> comes after that point and sees 1, and it takes the lock, which the stealer
/// holds until it has thawed the cache. The owner's window holds no call and no user code, so
/// the stealer waits at most for a few instructions (or a preemption). The expensive part is on
/// the rare side: a rent that found its own cache and the shared pool empty.
/// </para>
/// <para>
/// A thread gets a cache at its first rent on a pool, listed in the pool (which sums
/// <see cref="Rented"/> over them and drops the emptied caches of threads that have ended). The
/// pool's first thread finds its cache as the pool's home cache; the others through
/// <see cref="RecordCaches"/>, whose thread-static slots hold caches strongly — so a cache
/// refers to its pool only weakly, and a pool that is collected releases its caches' records
/// (<see cref="CacheReleaser"/>), or the slots of live threads would keep both alive.
/// </para>
/// </remarks>
[DebuggerDisplay("Count = {Count}, Rented = {Rented}")]
internal sealed class RecordCache
{
    /// <summary>The pool whose records these are, weakly (see the remarks); for eviction from the slots.</summary>
    private readonly WeakReference<IFinishRecordPool> _pool;

    /// <summary>1 while the owner pushes or pops without the pool's lock.</summary>
    private int _ownerIn;

    /// <summary>1 while a stealer (holding the pool's lock) may move records out of this cache.</summary>
    private int _frozen;

    /// <summary>Creates the calling thread's cache of <paramref name="pool"/>.</summary>
    /// <param name="pool">The pool.</param>
    /// <param name="poolId">The pool's identity in the thread's slots (<see cref="RecordCaches.NewPoolId"/>).</param>
    /// <param name="size">The most records the cache holds.</param>
    internal RecordCache(IFinishRecordPool pool, long poolId, int size)
    {
        _pool = new WeakReference<IFinishRecordPool>(pool);
        PoolId = poolId;
        Items = new Slot[size];
    }

    /// <summary>Identifies the pool without keeping it alive.</summary>
    internal readonly long PoolId;

    /// <summary>The thread that owns the cache; once it has ended, its records may be taken whole.</summary>
    internal readonly Thread Owner = Thread.CurrentThread;

    /// <summary>The owner's managed thread id (read without a call: records remember who rented them).</summary>
    internal readonly int OwnerId = Environment.CurrentManagedThreadId;

    /// <summary>
    /// The free records, a stack: the last returned is the next rented. Wrapped in a struct so
    /// that storing one is a plain store: an array of a non-sealed class type would check the
    /// element's type on every store (about as costly as the atomic operation this cache saves).
    /// Slots above <see cref="Count"/> may keep a stale reference; the records are the pool's anyway.
    /// Written by the owner inside <see cref="TryEnter"/> / <see cref="Exit"/> or under the
    /// pool's lock, and by a stealer under the pool's lock while the cache is frozen.
    /// </summary>
    internal readonly Slot[] Items;

    /// <summary>How many of <see cref="Items"/> hold a record; written as <see cref="Items"/> is.</summary>
    internal int Count;

    /// <summary>
    /// The records this thread rented minus those it returned (of any thread's renting): the
    /// pool's <c>Rented</c> is the sum over its caches. Written by the owner only.
    /// </summary>
    internal int Rented;

    /// <summary>The pool, unless it has been collected.</summary>
    /// <param name="pool">The pool.</param>
    /// <returns>Whether the pool is alive.</returns>
    internal bool TryGetPool([NotNullWhen(true)] out IFinishRecordPool? pool) => _pool.TryGetTarget(out pool);

    /// <summary>
    /// The owner enters its fast path; <see langword="false"/> when a stealer has frozen the
    /// cache (then do the push or pop under the pool's lock). Call <see cref="Exit"/> after a
    /// <see langword="true"/>, with no call and no user code in between.
    /// </summary>
    /// <returns>Whether the owner may touch <see cref="Items"/> and <see cref="Count"/> without the lock.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryEnter()
    {
        Debug.Assert(Owner == Thread.CurrentThread, "Only the owner takes the fast path.");
        Volatile.Write(ref _ownerIn, 1);
        if (Volatile.Read(ref _frozen) == 0) // no fence before this load: see the remarks
        {
            return true;
        }

        Volatile.Write(ref _ownerIn, 0);
        return false;
    }

    /// <summary>The owner leaves its fast path: its push or pop is visible to a stealer from here on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Exit() => Volatile.Write(ref _ownerIn, 0);

    /// <summary>A stealer (holding the pool's lock) freezes the cache; call <see cref="Interlocked.MemoryBarrierProcessWide"/>, then <see cref="AwaitOwnerOut"/>, before touching it.</summary>
    internal void Freeze() => Volatile.Write(ref _frozen, 1);

    /// <summary>Waits until the owner is out of a push or pop that it began before the freeze: a few instructions.</summary>
    internal void AwaitOwnerOut()
    {
        var spin = default(SpinWait);
        while (Volatile.Read(ref _ownerIn) != 0)
        {
            // Stryker disable once Statement,Unary : equivalent; the back-off changes how this wait spins (or sleeps), not what it waits for.
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>The stealer is done: the owner's next push or pop takes the fast path again.</summary>
    internal void Thaw() => Volatile.Write(ref _frozen, 0);

    /// <summary>Drops the cache's records: its pool has been collected, and a live thread's slot may still hold the cache.</summary>
    internal void Release()
    {
        Array.Clear(Items);
        Count = 0;
    }
}

/// <summary>One slot of a <see cref="RecordCache"/>.</summary>
internal struct Slot
{
    /// <summary>The free record.</summary>
    public FinishRecord? Record;
}

/// <summary>
/// Releases the records of a collected pool's caches. Reachable only from its pool, it is
/// finalized once the pool is unreachable — when no thread can use the caches any more, though
/// live threads' slots may still hold them (finding them by a pool id that nothing matches).
/// </summary>
/// <param name="caches">The pool's list of caches.</param>
internal sealed class CacheReleaser(List<RecordCache> caches)
{
    /// <summary>Releases the records.</summary>
    ~CacheReleaser()
    {
        foreach (RecordCache cache in caches)
        {
            cache.Release();
        }
    }
}
