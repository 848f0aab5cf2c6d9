using System.Diagnostics;
using IntervalNotifier.Collections;
using Microsoft.Extensions.ObjectPool;

namespace IntervalNotifier;

/// <summary>
/// What a two-pass subscriber's start pass leaves for its finish pass (kernel:
/// <c>struct mmu_interval_notifier_finish</c>). Derive from it to carry what the finish pass
/// needs: <see cref="ITwoPassIntervalInvalidator.InvalidateFinish"/> receives nothing but the record.
/// </summary>
/// <remarks>
/// <para>
/// Records come from a <see cref="FinishRecordPool{T}"/> (the core returns them after their
/// finish call) or are embedded in the subscriber (then the subscriber guards the record with
/// an in-use flag, clears it in its finish call, and takes the synchronous path for a second,
/// concurrent invalidation).
/// </para>
/// <para>
/// The core sets <see cref="Subscription"/> and links the record into the invalidation's
/// finish list (intrusive: no allocation; the link is the core's and is not visible). A record
/// is held by at most one party at a time — one invalidation's finish list, or a return to its
/// pool — and every one of them claims it by compare-and-swap first: a record that is already
/// held (returned twice in one walk, still in another invalidation's list, or on its way back to
/// its pool) is reported with <see cref="InvalidOperationException"/> and never corrupts a list.
/// </para>
/// </remarks>
[DebuggerDisplay("Subscription = {Subscription}")]
public class FinishRecord : IResettable
{
    // The party that holds this record, by its hold id — the bracket whose finish list links it
    // (its HoldId), a return to its pool (ReturnHold), a finish outside any walk
    // (FinishingAloneHold) — or 0 for nobody. Claimed by compare-and-swap (see ClaimHold): an
    // integer, so that the claim is one interlocked instruction, with no runtime helper call and
    // no GC write barrier, on the two-pass path of every device.
    private long _holder;

    // Hold ids of brackets come from here, upwards from 1; the fixed holders below are negative.
    private static long s_lastHoldId;

    /// <summary>The hold id of a return to a pool (any pool: a return needs only to exclude everyone else).</summary>
    internal const long ReturnHold = -1;

    // The hold id of a record being finished outside any walk.
    private const long FinishingAloneHold = -2;

    // The finish list's link, private to the core.
    internal FinishRecord? _next;

    // The pool that rented this record and has not had it back, or null.
    internal IFinishRecordPool? _pool;

    // The thread that rented it: a return on another thread (an asynchronous finish's
    // continuation, say) goes to the shared pool rather than to that thread's cache.
    internal int _rentThread;

    /// <summary>The subscription whose start pass returned this record; set by the core before the finish pass.</summary>
    public IntervalSubscription? Subscription { get; internal set; }

    /// <summary>Whether this record is rented from a <see cref="FinishRecordPool{T}"/> and not yet returned.</summary>
    public bool IsRented => Volatile.Read(ref _pool) is not null;

    /// <summary>The hold id of the party holding the record, or 0.</summary>
    internal long Holder => Volatile.Read(ref _holder);

    /// <summary>A new hold id for a party that claims records (a bracket): positive, never reused.</summary>
    internal static long NewHoldId() => Interlocked.Increment(ref s_lastHoldId);

    /// <summary>
    /// Called when a pooled record goes back to its pool, after its finish call (the
    /// <see cref="IResettable"/> convention of Microsoft.Extensions.ObjectPool): clear what the
    /// derived class stored so that the next renter starts clean. The pool clears
    /// <see cref="Subscription"/> itself. The default does nothing and returns <see langword="true"/>.
    /// </summary>
    /// <returns>
    /// <see langword="true"/> when the record can be rented again; <see langword="false"/> to have
    /// the pool drop it (it creates a new one in its place when needed). A reset that throws
    /// counts as <see langword="false"/>, and its exception reaches whoever returned the record.
    /// </returns>
    public virtual bool TryReset() => true;

    /// <summary>
    /// Finishes one record outside any walk (<see cref="ITwoPassIntervalInvalidator"/>'s
    /// single-pass form): claimed like a finish list claims it, finished unless its start pass
    /// refused, and a pooled record returned to its pool whatever happens.
    /// </summary>
    internal static void FinishAlone(ITwoPassIntervalInvalidator invalidator, IntervalSubscription subscription, FinishRecord record, bool done)
    {
        if (record.ClaimHold(FinishingAloneHold) != 0)
        {
            throw new InvalidOperationException("The start pass returned a finish record that is held elsewhere (in a finish list, or on its way back to its pool); each start call needs its own record.");
        }

        IFinishRecordPool? pool = Volatile.Read(ref record._pool);
        try
        {
            if (!done)
            {
                throw new InvalidOperationException("The start pass returned a finish record together with false; a refusing start pass must return no record. The record was not finished.");
            }

            record.Subscription = subscription;
            if (pool is null)
            {
                record.ReleaseHold(); // an embedded record may be reused from inside its finish
            }

            invalidator.InvalidateFinish(record);
        }
        finally
        {
            if (pool is not null)
            {
                pool.ReturnFromCore(record, callingThread: null);
            }
            else if (!done)
            {
                record.ReleaseHold();
            }
        }
    }

    /// <summary>Claims the record for the party whose hold id is <paramref name="holder"/>; fails if anyone holds it.</summary>
    /// <param name="holder">The claiming party's hold id (not 0).</param>
    /// <returns>The hold id of the party that held it already, or 0 when the claim succeeded.</returns>
    internal long ClaimHold(long holder)
    {
        Debug.Assert(holder != 0, "0 is nobody's hold id.");
        return Interlocked.CompareExchange(ref _holder, holder, 0);
    }

    /// <summary>Releases the hold: from here on, anyone may claim the record.</summary>
    internal void ReleaseHold() => Volatile.Write(ref _holder, 0);

    /// <summary>Reaches the finish list's link for <see cref="TreiberStackCore{T, TLink}"/>.</summary>
    internal readonly struct Link : IStackLink<FinishRecord>
    {
        public static ref FinishRecord? Next(FinishRecord node) => ref node._next;
    }
}
