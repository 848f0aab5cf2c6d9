using System.Diagnostics;
using IntervalNotifier.Collections;

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
/// finish list (intrusive: no allocation). A record may be in one list at a time: returning a
/// record that is still linked (twice in one walk, or still in another invalidation's list) is
/// reported with <see cref="InvalidOperationException"/> and never corrupts a list.
/// </para>
/// </remarks>
[DebuggerDisplay("Subscription = {Subscription}")]
public class FinishRecord : TreiberStackNode<FinishRecord>
{
    // The invalidation whose finish list holds this record, or null. Claimed by compare-and-swap
    // so that a record is never in two lists.
    internal object? _holder;

    // The pool that rented this record and has not had it back, or null.
    internal IFinishRecordPool? _pool;

    /// <summary>The subscription whose start pass returned this record; set by the core before the finish pass.</summary>
    public IntervalSubscription? Subscription { get; internal set; }

    /// <summary>Whether this record is rented from a <see cref="FinishRecordPool{T}"/> and not yet returned.</summary>
    public bool IsRented => Volatile.Read(ref _pool) is not null;

    /// <summary>
    /// Called when a pooled record goes back to its pool, after its finish call: clear what the
    /// derived class stored so that the next renter starts clean. The base clears
    /// <see cref="Subscription"/> after this call. The default does nothing.
    /// </summary>
    protected virtual void Reset()
    {
    }

    internal void ResetForPool() => Reset();
}
