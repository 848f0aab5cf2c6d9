using IntervalNotifier.Collections;

namespace IntervalNotifier;

/// <summary>
/// One open bracket (begin … end) of an address space, and its own finish list. Recycled
/// through the address space's free list, so that a bracket allocates nothing in steady state;
/// <see cref="Generation"/> tells a scope from the scope of an earlier use.
/// </summary>
/// <remarks>All fields but <see cref="FinishList"/> are guarded by the address space's lock.</remarks>
internal sealed class Invalidation(AddressSpace space)
{
    internal readonly AddressSpace Space = space;

    /// <summary>The records returned by this invalidation's start calls, pushed lock-free.</summary>
    internal readonly TreiberStack<FinishRecord> FinishList = new();

    /// <summary>Bumped when the bracket ends; a scope holds the value of its own use, so it matches only while that use is open.</summary>
    internal ulong Generation;

    /// <summary>The thread that began the bracket; it must not wait for the bracket's end.</summary>
    internal int OwnerThreadId;

    // Open list (doubly linked) while open; free list (Next only) while closed.
    internal Invalidation? Previous;
    internal Invalidation? Next;
}
