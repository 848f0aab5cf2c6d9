using System.Diagnostics;

namespace IntervalNotifier.Internal;

/// <summary>
/// The open brackets of one address space, and the closed ones kept for reuse so that a bracket
/// allocates nothing in steady state. Each open bracket names the thread that began it, which
/// must not wait for the bracket's end (self-wait detection, docs/contract.md §3 and §5).
/// </summary>
/// <remarks>Guarded by the address space's lock: every member asserts that the caller holds it.</remarks>
internal sealed class BracketRegistry(object sync, AddressSpace space)
{
    private IntrusiveList<Bracket> _open;
    private IntrusiveList<Bracket> _free;

    /// <summary>The number of open brackets.</summary>
    public int OpenCount
    {
        get
        {
            Debug.Assert(Monitor.IsEntered(sync));
            return _open.Count;
        }
    }

    /// <summary>Opens a bracket owned by the calling thread; reuses a closed one when it can.</summary>
    /// <param name="isAsync">Whether the bracket will belong to no thread once its begin has run.</param>
    /// <returns>The bracket, with its generation for the scope to hold.</returns>
    /// <remarks>Allocates only when no closed bracket is free; the allocation comes before any change.</remarks>
    public Bracket Open(bool isAsync)
    {
        Debug.Assert(Monitor.IsEntered(sync));
        Bracket bracket = _free.TakeFirst() ?? new Bracket(space);
        bracket.Owner = Thread.CurrentThread;
        bracket.IsAsync = isAsync;
        _open.AddFirst(bracket);
        return bracket;
    }

    /// <summary>Closes an open bracket: a scope of its earlier use no longer matches it.</summary>
    /// <param name="bracket">An open bracket of this registry.</param>
    public void Close(Bracket bracket)
    {
        Debug.Assert(Monitor.IsEntered(sync));
        Debug.Assert(bracket.FinishList.IsEmpty, "A bracket closes with records on its finish list.");
        _open.Remove(bracket);
        bracket.Generation++;
        bracket.Owner = null; // a closed bracket keeps no thread alive
        _free.AddFirst(bracket);
    }

    /// <summary>
    /// Whether the caller holds an open bracket of this address space: the calling thread began
    /// one (it is inside a callback, or between a begin and its end), or the calling flow runs
    /// inside an asynchronous finish of one that is still open (docs/contract.md §9).
    /// </summary>
    /// <returns><see langword="true"/> if waiting for the open brackets to end would wait for itself.</returns>
    public bool IsHeldByCaller()
    {
        Debug.Assert(Monitor.IsEntered(sync));
        if (Bracket.Flow.Value is { } mark && ReferenceEquals(mark.Bracket.Space, space) && mark.IsOpen)
        {
            return true;
        }

        if (AddressSpace.FastBracketOfCaller is { } fast && ReferenceEquals(Volatile.Read(ref fast.Space), space))
        {
            return true; // the thread's fast bracket is open in this space
        }

        Thread thread = Thread.CurrentThread;
        for (Bracket? b = _open.First; b is not null; b = IntrusiveList<Bracket>.NextOf(b))
        {
            if (ReferenceEquals(Volatile.Read(ref b.Owner), thread))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the caller is inside <paramref name="bracket"/>'s own invalidation (its begin's thread, or its asynchronous finishes' flow).</summary>
    /// <param name="bracket">An open bracket.</param>
    /// <returns><see langword="true"/> if waiting for it would wait for itself.</returns>
    public static bool IsInside(Bracket bracket) =>
        ReferenceEquals(Volatile.Read(ref bracket.Owner), Thread.CurrentThread)
        || (Bracket.Flow.Value is { } mark && ReferenceEquals(mark.Bracket, bracket) && mark.IsOpen);

    /// <summary>What is wrong with the lists, or <see langword="null"/>.</summary>
    /// <returns>A description of the first broken invariant.</returns>
    public string? Check()
    {
        Debug.Assert(Monitor.IsEntered(sync));
        return _open.Check() ?? _free.Check();
    }
}
