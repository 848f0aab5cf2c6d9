using IntervalNotifier.Collections;
using IntervalNotifier.Internal;

namespace IntervalNotifier;

/// <summary>
/// One bracket (begin … end) of an address space, and its own finish list. Recycled through the
/// address space's <see cref="BracketRegistry"/>, so that a bracket allocates nothing in steady
/// state; <see cref="Generation"/> tells a scope from the scope of an earlier use.
/// </summary>
/// <remarks>All fields but <see cref="FinishList"/> are guarded by the address space's lock.</remarks>
internal sealed class Bracket(AddressSpace space) : IListNode<Bracket>
{
    /// <summary>The address space the bracket belongs to.</summary>
    internal readonly AddressSpace Space = space;

    /// <summary>The records returned by this bracket's start calls, pushed lock-free (docs/contract.md §6).</summary>
    internal TreiberStackCore<FinishRecord, FinishRecord.Link> FinishList;

    /// <summary>Bumped when the bracket ends; a scope holds the value of its own use, so it matches only while that use is open.</summary>
    internal ulong Generation;

    /// <summary>The thread that began the bracket; it must not wait for the bracket's end.</summary>
    internal int OwnerThreadId;

    // In the registry's open list while open, in its free list while closed.
    private ListLinks<Bracket> _links;

    static ref ListLinks<Bracket> IListNode<Bracket>.LinksOf(Bracket node) => ref node._links;
}
