using System.Diagnostics;

namespace IntervalNotifier.Internal;

/// <summary>The two links of a node of an <see cref="IntrusiveList{T}"/>; a field of the node.</summary>
/// <typeparam name="T">The node type.</typeparam>
internal struct ListLinks<T>
    where T : class
{
    public T? Previous;
    public T? Next;
}

/// <summary>A type whose instances carry the links of one <see cref="IntrusiveList{T}"/>.</summary>
/// <typeparam name="T">The node type itself.</typeparam>
internal interface IListNode<T>
    where T : class, IListNode<T>
{
    /// <summary>The node's links.</summary>
    /// <param name="node">The node.</param>
    /// <returns>A reference to the links field of <paramref name="node"/>.</returns>
    static abstract ref ListLinks<T> LinksOf(T node);
}

/// <summary>
/// A doubly linked intrusive list: the one list code of the library. Every list of an address
/// space — the deferred changes, the asynchronous waiters, the open and the free brackets, the
/// recycled waiters — is one of these, so unlinking is written once. O(1) add, remove and
/// membership; allocates nothing.
/// </summary>
/// <typeparam name="T">The node type.</typeparam>
/// <remarks>
/// <para>
/// Membership is the links (as in <c>SemaphoreSlim</c>): a node is in the list when it has a
/// previous node or is the first, so no flag can disagree with them. A node is in at most one
/// list at a time; <see cref="Remove"/> and <see cref="TakeFirst"/> clear its links.
/// </para>
/// <para>Not thread-safe: its owner guards it with its lock.</para>
/// </remarks>
[DebuggerDisplay("Count = {Count}")]
internal struct IntrusiveList<T>
    where T : class, IListNode<T>
{
    private T? _first;
    private T? _last;
    private int _count;

    /// <summary>The first node, or <see langword="null"/>.</summary>
    public readonly T? First => _first;

    /// <summary>The last node, or <see langword="null"/>.</summary>
    public readonly T? Last => _last;

    /// <summary>The number of nodes.</summary>
    public readonly int Count => _count;

    /// <summary>Whether the list is empty.</summary>
    public readonly bool IsEmpty => _first is null;

    /// <summary>The node after <paramref name="node"/>, or <see langword="null"/>.</summary>
    /// <param name="node">A node of a list.</param>
    /// <returns>Its successor.</returns>
    public static T? NextOf(T node) => T.LinksOf(node).Next;

    /// <summary>Whether <paramref name="node"/> is in this list (given that it is in no other). O(1).</summary>
    /// <param name="node">The node.</param>
    /// <returns><see langword="true"/> if it is linked here.</returns>
    public readonly bool Contains(T node) => T.LinksOf(node).Previous is not null || ReferenceEquals(_first, node);

    /// <summary>Appends <paramref name="node"/>, which must be in no list.</summary>
    /// <param name="node">The node.</param>
    public void AddLast(T node) => LinkBetween(node, _last, null);

    /// <summary>Prepends <paramref name="node"/>, which must be in no list.</summary>
    /// <param name="node">The node.</param>
    public void AddFirst(T node) => LinkBetween(node, null, _first);

    /// <summary>Unlinks <paramref name="node"/>, which must be in this list, and clears its links.</summary>
    /// <param name="node">The node.</param>
    public void Remove(T node)
    {
        Debug.Assert(Contains(node), "The node is not in this list.");
        ref ListLinks<T> links = ref T.LinksOf(node);
        if (links.Previous is null)
        {
            _first = links.Next;
        }
        else
        {
            T.LinksOf(links.Previous).Next = links.Next;
        }

        if (links.Next is null)
        {
            _last = links.Previous;
        }
        else
        {
            T.LinksOf(links.Next).Previous = links.Previous;
        }

        links = default;
        _count--;
    }

    /// <summary>Unlinks and returns the first node, or returns <see langword="null"/> when empty.</summary>
    /// <returns>The node that was first.</returns>
    public T? TakeFirst()
    {
        T? first = _first;
        if (first is not null)
        {
            Remove(first);
        }

        return first;
    }

    /// <summary>
    /// Empties the list at once and returns its nodes as a chain linked by
    /// <see cref="NextOf"/>: each node is out of the list (<see cref="Contains"/> is false for it)
    /// but keeps its next link, which whoever walks the chain clears. O(k).
    /// </summary>
    /// <returns>The first node of the chain, or <see langword="null"/>.</returns>
    public T? DetachAll()
    {
        T? first = _first;
        for (T? node = first; node is not null; node = T.LinksOf(node).Next)
        {
            T.LinksOf(node).Previous = null;
        }

        _first = null;
        _last = null;
        _count = 0;
        return first;
    }

    /// <summary>Takes the first node of a chain from <see cref="DetachAll"/>, clearing its link.</summary>
    /// <param name="chain">The chain; advanced to the next node.</param>
    /// <returns>The node taken, or <see langword="null"/> at the end of the chain.</returns>
    public static T? TakeFromChain(ref T? chain)
    {
        T? node = chain;
        if (node is not null)
        {
            ref ListLinks<T> links = ref T.LinksOf(node);
            chain = links.Next;
            links.Next = null;
        }

        return node;
    }

    // Links `node` between two adjacent nodes (null: the list's end on that side).
    private void LinkBetween(T node, T? previous, T? next)
    {
        ref ListLinks<T> links = ref T.LinksOf(node);
        Debug.Assert(links.Previous is null && links.Next is null && !ReferenceEquals(_first, node), "The node is already linked.");
        links.Previous = previous;
        links.Next = next;
        if (previous is null)
        {
            _first = node;
        }
        else
        {
            T.LinksOf(previous).Next = node;
        }

        if (next is null)
        {
            _last = node;
        }
        else
        {
            T.LinksOf(next).Previous = node;
        }

        _count++;
    }

    /// <summary>Checks the links against each other; for <c>AssertInvariants</c> and tests. O(n).</summary>
    /// <returns>What is wrong, or <see langword="null"/>.</returns>
    public readonly string? Check()
    {
        int count = 0;
        T? previous = null;
        for (T? node = _first; node is not null; node = T.LinksOf(node).Next)
        {
            if (!ReferenceEquals(T.LinksOf(node).Previous, previous))
            {
                return "a node's previous link does not point at the node before it";
            }

            previous = node;
            if (++count > _count)
            {
                return "the list is longer than its count (or has a cycle)";
            }
        }

        if (!ReferenceEquals(previous, _last))
        {
            return "the last node is not the one the links end at";
        }

        return count == _count ? null : "the count does not match the links";
    }
}
