namespace IntervalNotifier.Collections;

/// <summary>How a <see cref="TreiberStackCore{T, TLink}"/> reaches a node's link.</summary>
/// <typeparam name="T">The node type.</typeparam>
internal interface IStackLink<T>
    where T : class
{
    /// <summary>The node's link field.</summary>
    /// <param name="node">The node.</param>
    /// <returns>A reference to the link.</returns>
    static abstract ref T? Next(T node);
}

/// <summary>
/// The algorithm of the Treiber stack, once: <see cref="TreiberStack{T}"/> (public, for nodes
/// derived from <see cref="TreiberStackNode{TSelf}"/>) and the address space's finish lists
/// (whose records keep their link private) are both this struct. <typeparamref name="TLink"/> is a
/// struct, so the JIT resolves the link access statically and push stays one compare-and-swap.
/// </summary>
/// <typeparam name="T">The node type.</typeparam>
/// <typeparam name="TLink">Reaches a node's link.</typeparam>
internal struct TreiberStackCore<T, TLink>
    where T : class
    where TLink : struct, IStackLink<T>
{
    private T? _head;

    /// <summary>Whether the stack is empty at the moment of the call.</summary>
    public bool IsEmpty => Volatile.Read(ref _head) is null;

    /// <summary>Pushes <paramref name="node"/>: one compare-and-swap, retried only under contention.</summary>
    /// <param name="node">A node on no stack or chain.</param>
    /// <returns><see langword="true"/> if the stack was empty before.</returns>
    public bool Push(T node)
    {
        ref T? next = ref TLink.Next(node);
        T? head = Volatile.Read(ref _head);
        while (true)
        {
            next = head;
            T? seen = Interlocked.CompareExchange(ref _head, node, head);
            if (ReferenceEquals(seen, head))
            {
                return head is null;
            }

            head = seen;
        }
    }

    /// <summary>
    /// Takes every node at once (one atomic exchange), newest first. A stack seen empty costs no
    /// exchange: the read of an empty head is then the take's linearization point.
    /// </summary>
    /// <returns>The chain, or <see langword="null"/>.</returns>
    public T? TakeAll() => Volatile.Read(ref _head) is null ? null : Interlocked.Exchange(ref _head, null);

    /// <summary>Takes every node at once, oldest push first (the chain reversed in place).</summary>
    /// <returns>The chain, or <see langword="null"/>.</returns>
    public T? TakeAllInPushOrder() => Reverse(TakeAll());

    /// <summary>Reverses a taken chain in place. O(k).</summary>
    /// <param name="chain">The chain, or <see langword="null"/>.</param>
    /// <returns>The first node of the reversed chain.</returns>
    public static T? Reverse(T? chain)
    {
        T? reversed = null;
        while (chain is not null)
        {
            ref T? link = ref TLink.Next(chain);
            T? next = link;
            link = reversed;
            reversed = chain;
            chain = next;
        }

        return reversed;
    }
}
