using IntervalNotifier.Collections;
using IntervalNotifier.Internal;

namespace IntervalNotifier;

/// <summary>
/// One bracket (begin … end) of an address space, and its own finish list. Recycled through the
/// address space's <see cref="BracketRegistry"/>, so that a bracket allocates nothing in steady
/// state; <see cref="Generation"/> tells a scope from the scope of an earlier use.
/// </summary>
/// <remarks>
/// A registry bracket's fields but <see cref="FinishList"/> are guarded by the address space's
/// lock; <see cref="Owner"/> is read under it and written by the invalidation with
/// <see cref="Volatile"/>. A fast bracket (<see cref="IsFast"/>) is used by its own thread only;
/// its <see cref="Generation"/> is claimed by a compare-and-swap at the end and its
/// <see cref="Space"/> read by that thread's self-wait detection.
/// </remarks>
internal sealed class Bracket(AddressSpace? space, bool isFast = false) : IListNode<Bracket>
{
    /// <summary>The use of a bracket that the code running in an asynchronous finish's flow belongs to (docs/contract.md §9).</summary>
    internal static readonly AsyncLocal<FlowMark?> Flow = new();

    /// <summary>
    /// The address space the bracket belongs to. A fast bracket (<see cref="IsFast"/>) belongs to
    /// one thread, not to a space: this is the space of its open use, <see langword="null"/>
    /// while it is free (so that it keeps no address space alive).
    /// </summary>
    internal AddressSpace? Space = space;

    /// <summary>
    /// The calling thread's own bracket for the lock-free fast path (one per thread, used by one
    /// synchronous bracket at a time, in any address space); it is never in a registry.
    /// </summary>
    internal readonly bool IsFast = isFast;

    /// <summary>This bracket's hold id: what its finish list's claims write into a record (<see cref="FinishRecord.ClaimHold"/>); one per bracket object, kept across its uses.</summary>
    internal readonly long HoldId = FinishRecord.NewHoldId();

    /// <summary>The records returned by this bracket's start calls, pushed lock-free (docs/contract.md §6).</summary>
    internal TreiberStackCore<FinishRecord, FinishRecord.Link> FinishList;

    /// <summary>Bumped when the bracket ends; a scope holds the value of its own use, so it matches only while that use is open.</summary>
    internal ulong Generation;

    /// <summary>
    /// The thread that must not wait for the bracket's end: the one that began it — for an
    /// asynchronous bracket only while its begin runs on that thread (then <see langword="null"/>:
    /// it belongs to no thread). A thread object, not a managed id: ids of ended threads are
    /// reused, and a new thread must not inherit an old one's bracket.
    /// </summary>
    internal Thread? Owner;

    /// <summary>When the current use began, for the duration histogram; 0 when nobody listened then.</summary>
    internal long StartedAt;

    /// <summary>Begun by <c>BeginInvalidationAsync</c> (or <c>DisposeAsync</c>): its scope may be disposed on any thread.</summary>
    internal bool IsAsync;

    // In the registry's open list while open, in its free list while closed.
    private ListLinks<Bracket> _links;

    static ref ListLinks<Bracket> IListNode<Bracket>.LinksOf(Bracket node) => ref node._links;

    /// <summary>A mark for the flows of this use's asynchronous finishes.</summary>
    internal FlowMark MarkFlow() => new(this, Generation);

    /// <summary>Marks the flow of code that runs inside a callback of one use of a bracket, asynchronous continuations included.</summary>
    /// <param name="Bracket">The bracket.</param>
    /// <param name="Generation">Its generation during that use.</param>
    internal sealed record FlowMark(Bracket Bracket, ulong Generation)
    {
        /// <summary>Whether that use is still open (under the address space's lock).</summary>
        internal bool IsOpen => Bracket.Generation == Generation;
    }
}
