using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace IntervalNotifier.Collections;

/// <summary>
/// An intrusive lock-free stack (R. K. Treiber, 1986): any number of threads push at once,
/// and a consumer takes the whole stack at once. Allocates nothing.
/// </summary>
/// <typeparam name="T">The element type; its link lives in <see cref="TreiberStackNode{TSelf}"/>.</typeparam>
/// <remarks>
/// <para>
/// There is deliberately no single-element pop: with nodes that are recycled, a pop by
/// compare-and-swap suffers from ABA (the head it read may have been popped, reused and
/// pushed again in between). <see cref="TakeAll"/> swaps the head out in one atomic exchange
/// and has no such problem.
/// </para>
/// <para>
/// A node must be on at most one stack or taken chain at a time; pushing a node that is
/// still linked elsewhere corrupts both. Owners that cannot rule it out must guard their
/// nodes themselves (the address space does, for finish records).
/// </para>
/// </remarks>
[DebuggerDisplay("IsEmpty = {IsEmpty}")]
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "It is a stack; the name is the algorithm's.")]
public sealed class TreiberStack<T>
    where T : TreiberStackNode<T>
{
    private TreiberStackCore<T, TreiberStackNode<T>.Link> _core;

    /// <summary>Whether the stack is empty at the moment of the call.</summary>
    public bool IsEmpty => _core.IsEmpty;

    /// <summary>Pushes <paramref name="node"/>: one compare-and-swap, retried only under contention. Lock-free; allocates nothing.</summary>
    /// <param name="node">The node; it must not be on any stack or taken chain.</param>
    /// <returns><see langword="true"/> if the stack was empty before this push.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="node"/> is <see langword="null"/>.</exception>
    public bool Push(T node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return _core.Push(node);
    }

    /// <summary>
    /// Takes every node at once (one atomic exchange; none when the stack is seen empty) and leaves the stack empty. Lock-free; allocates nothing.
    /// </summary>
    /// <returns>The chain of taken nodes, most recently pushed first, linked by <see cref="TreiberStackNode{TSelf}.Next"/>; <see langword="null"/> if the stack was empty.</returns>
    public T? TakeAll() => _core.TakeAll();

    /// <summary>
    /// Takes every node at once, like <see cref="TakeAll"/>, and returns them oldest push first
    /// (the taken chain reversed in place). Lock-free; O(k); allocates nothing.
    /// </summary>
    /// <returns>The chain of taken nodes in push order, or <see langword="null"/> if the stack was empty.</returns>
    public T? TakeAllInPushOrder() => _core.TakeAllInPushOrder();
}

/// <summary>Helpers for chains taken from a <see cref="TreiberStack{T}"/>.</summary>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "The companion of TreiberStack<T>.")]
public static class TreiberStack
{
    /// <summary>Reverses a taken chain in place, so that it runs oldest push first. O(k); allocates nothing.</summary>
    /// <typeparam name="T">The node type.</typeparam>
    /// <param name="chain">A chain returned by <see cref="TreiberStack{T}.TakeAll"/>, or <see langword="null"/>.</param>
    /// <returns>The first node of the reversed chain.</returns>
    public static T? Reverse<T>(T? chain)
        where T : TreiberStackNode<T> => TreiberStackCore<T, TreiberStackNode<T>.Link>.Reverse(chain);
}
