using System.Collections;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace IntervalNotifier.Collections;

/// <summary>
/// An interval index over closed <c>[start, last]</c> 64-bit intervals, each with a value: a
/// B+-tree whose nodes keep their keys in contiguous arrays, with the largest <c>last</c> of
/// every child's subtree beside the child (the augmentation that lets an overlap query skip it).
/// </summary>
/// <typeparam name="T">The value stored with each interval.</typeparam>
/// <remarks>
/// <para>
/// Elements are ordered by start; elements with equal starts keep their insertion order (the
/// tree orders by (start, insertion number)). Many elements may share the same bounds, and both
/// <c>0</c> and <see cref="ulong.MaxValue"/> are valid bounds. <see cref="Insert"/> returns an
/// <see cref="IntervalTreeHandle"/> that identifies the element for <see cref="Remove"/> and
/// <see cref="Contains"/>.
/// </para>
/// <para>
/// Layout: a leaf holds up to 64 elements as parallel arrays of starts, lasts, insertion
/// numbers and values, so a query compares keys in a few cache lines and reads a value only on
/// a hit; leaves are linked in order. A branch holds, for each of up to 64 children, the
/// child's smallest (start, insertion number), the largest last of its subtree, and the child.
/// Every node except the root is at least half full. A query compares 8 keys at a time (with
/// 512-bit vectors where the processor has them).
/// </para>
/// <para>
/// Costs: <see cref="Insert"/>, <see cref="Remove"/> and <see cref="Contains"/> are O(log n);
/// an overlap query is O(log n + k) for k results, allocates nothing, and rejects in O(1) a
/// query that lies before every start or after every last. Insert allocates only when a node
/// splits; nothing else allocates.
/// </para>
/// <para>
/// Not thread-safe for mutation: callers serialize mutations. Any number of enumerations may
/// run at once while the tree is not mutated; each enumerator throws
/// <see cref="InvalidOperationException"/> from <c>MoveNext</c> once the tree has changed
/// since the enumeration began.
/// </para>
/// </remarks>
[DebuggerDisplay("Count = {Count}")]
public sealed partial class IntervalTree<T> : IEnumerable<T>
{
    // Insertion numbers are reserved from the process-wide counter this many at a time.
    private const int IdBlock = 256;

    // Capacities in use (at most LeafSlots and BranchSlots); a node holds at least half.
    private readonly int _leafCapacity;
    private readonly int _branchCapacity;

    // Internal rather than private so that the tests can corrupt them and watch CheckInvariants notice.

    // The root: null for a new or cleared tree; a leaf (possibly empty) while the tree has at
    // most one leaf; otherwise a branch with at least two children.
    internal Node? _root;

    // The first leaf in key order (where the full enumeration starts), null when _root is.
    internal Leaf? _firstLeaf;

    // The number of levels: 0 without a root, 1 when the root is a leaf. Every leaf is at this depth.
    internal int _height;

    internal int _count;

    // Incremented by every mutation; enumerators compare it with the value they began with.
    private long _version;

    // The smallest start and the largest last of all elements (ulong.MaxValue and 0 when
    // empty), so that a query outside them is rejected without touching a node.
    internal ulong _minStart = ulong.MaxValue;
    internal ulong _maxLast;

    // The unused part [_nextId, _idEnd) of the block of insertion numbers reserved last.
    private ulong _nextId;
    private ulong _idEnd;

    /// <summary>Creates an empty tree. Allocates nothing until the first <see cref="Insert"/>.</summary>
    public IntervalTree()
        : this(LeafSlots, BranchSlots)
    {
    }

    // Smaller capacities give deep trees from few elements (tests) and let benchmarks compare fan-outs.
    internal IntervalTree(int leafCapacity, int branchCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(leafCapacity, MinCapacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(leafCapacity, LeafSlots);
        ArgumentOutOfRangeException.ThrowIfLessThan(branchCapacity, MinCapacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(branchCapacity, BranchSlots);
        _leafCapacity = leafCapacity;
        _branchCapacity = branchCapacity;
    }

    /// <summary>The number of elements. O(1).</summary>
    public int Count => _count;

    /// <summary>
    /// Inserts the closed interval <c>[start, last]</c> with <paramref name="value"/>, after
    /// every element with the same start. O(log n); allocates only when a node splits (one node
    /// per level that splits, amortized O(1) per insert).
    /// </summary>
    /// <param name="start">The first value of the interval.</param>
    /// <param name="last">The last value of the interval, inclusive; may be <see cref="ulong.MaxValue"/>.</param>
    /// <param name="value">The value stored with the interval (it may be <see langword="null"/> or a duplicate).</param>
    /// <returns>The handle that identifies the new element; never the <see langword="default"/> handle.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="last"/> is less than <paramref name="start"/>.</exception>
    public IntervalTreeHandle Insert(ulong start, ulong last, T value)
    {
        if (last < start)
        {
            ThrowInverted(start, last, "interval");
        }

        ulong id = NextId();
        Node root = _root ??= NewRootLeaf();
        Node? right = root.IsLeaf ? InsertInto(AsLeaf(root), start, last, id, value) : InsertInto(AsBranch(root), start, last, id, value);
        if (right is not null)
        {
            var newRoot = new Branch();
            SetChild(newRoot, 0, root);
            SetChild(newRoot, 1, right);
            newRoot.Count = 2;
            _root = newRoot;
            _height++;
        }

        _minStart = Math.Min(_minStart, start);
        _maxLast = Math.Max(_maxLast, last);
        _count++;
        _version++;
        return new IntervalTreeHandle(start, id);
    }

    /// <summary>
    /// Removes the element that <paramref name="handle"/> identifies. O(log n): descends by the
    /// element's unique key (start, insertion number). Allocates nothing.
    /// </summary>
    /// <param name="handle">A handle that <see cref="Insert"/> returned.</param>
    /// <returns>
    /// <see langword="true"/> if the element was in the tree and is now removed;
    /// <see langword="false"/> (and nothing changes) for the <see langword="default"/> handle, a
    /// handle of another tree, or one whose element was already removed or cleared.
    /// </returns>
    public bool Remove(IntervalTreeHandle handle)
    {
        if (handle.IsDefault || _root is null || !RemoveFrom(_root, handle.Start, handle.Id, out ulong removedLast))
        {
            return false;
        }

        _count--;
        _version++;

        // A merge may leave the root branch with a single child, which becomes the root.
        while (_root is Branch { Count: 1 } branch)
        {
            Node child = branch.Children[0]!;
            child.Parent = null;
            _root = child;
            _height--;
        }

        if (_count == 0)
        {
            _minStart = ulong.MaxValue;
            _maxLast = 0;
        }
        else
        {
            _minStart = MinStartOf(_root);
            if (removedLast == _maxLast)
            {
                _maxLast = MaxLastOf(_root);
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="handle"/> identifies an element of this tree. O(log n); allocates nothing.</summary>
    /// <param name="handle">Any handle.</param>
    /// <returns><see langword="false"/> for the <see langword="default"/> handle, one of another tree, or one already removed.</returns>
    public bool Contains(IntervalTreeHandle handle)
    {
        if (handle.IsDefault || _root is null)
        {
            return false;
        }

        Node node = _root;
        while (!node.IsLeaf)
        {
            Branch branch = AsBranch(node);
            int i = ChildFor(branch, handle.Start, handle.Id);
            if (i < 0)
            {
                return false;
            }

            node = branch.Children[i]!;
        }

        Leaf leaf = AsLeaf(node);
        int at = LowerBound(leaf, handle.Start, handle.Id);
        return at < leaf.Count && leaf.Ids[at] == handle.Id && leaf.Starts[at] == handle.Start;
    }

    /// <summary>
    /// Removes every element. O(1): the nodes are dropped, not visited. Handles of the removed
    /// elements no longer match anything (insertion numbers are never reused).
    /// </summary>
    public void Clear()
    {
        _root = null;
        _firstLeaf = null;
        _height = 0;
        _count = 0;
        _minStart = ulong.MaxValue;
        _maxLast = 0;
        _version++;
    }

    /// <summary>
    /// Whether any element overlaps the closed interval <c>[start, last]</c>. O(log n); O(1)
    /// when the query lies before every start or after every last; allocates nothing.
    /// </summary>
    /// <param name="start">The first value of the query.</param>
    /// <param name="last">The last value of the query, inclusive.</param>
    /// <returns><see langword="true"/> if some element's interval shares at least one value with the query.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="last"/> is less than <paramref name="start"/>.</exception>
    public bool AnyOverlapping(ulong start, ulong last)
    {
        if (last < start)
        {
            ThrowInverted(start, last, "query");
        }

        var e = new OverlapEnumerator(this, start, last);
        return e.MoveNext();
    }

    /// <summary>
    /// The elements that overlap the closed interval <c>[start, last]</c>, in ascending start
    /// (insertion order among equal starts). Enumerating is O(log n + k) for k results and
    /// allocates nothing (struct enumerable and enumerator); a query that lies before every
    /// start or after every last is rejected in O(1).
    /// </summary>
    /// <param name="start">The first value of the query.</param>
    /// <param name="last">The last value of the query, inclusive.</param>
    /// <returns>
    /// A struct enumerable. Its enumerator stays valid while the tree is not mutated (it may be
    /// moved on from another thread, one thread at a time); after a mutation its <c>MoveNext</c>
    /// throws <see cref="InvalidOperationException"/>.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="last"/> is less than <paramref name="start"/>.</exception>
    [SuppressMessage("ApiDesign", "RS0041:Public members should not use oblivious types", Justification = "Analyzer false positive for a struct nested in a generic type; nothing here is oblivious.")]
    public OverlapEnumerable Overlapping(ulong start, ulong last)
    {
        if (last < start)
        {
            ThrowInverted(start, last, "query");
        }

        return new OverlapEnumerable(this, start, last);
    }

    /// <summary>
    /// Enumerates every element in ascending start (insertion order among equal starts), leaf by
    /// leaf. O(n) in all; allocates nothing when used through <c>foreach</c> (struct enumerator).
    /// </summary>
    /// <returns>A struct enumerator whose <c>MoveNext</c> throws <see cref="InvalidOperationException"/> once the tree has changed.</returns>
    [SuppressMessage("ApiDesign", "RS0041:Public members should not use oblivious types", Justification = "Analyzer false positive for a struct nested in a generic type; nothing here is oblivious.")]
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<T> IEnumerable<T>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    [DoesNotReturn]
    private static void ThrowInverted(ulong start, ulong last, string what) =>
        throw new ArgumentOutOfRangeException(nameof(last), last, $"The {what}'s last value must not be less than its start ({start}).");

    [DoesNotReturn]
    private static void ThrowChanged() =>
        throw new InvalidOperationException("The interval tree changed while it was being enumerated.");

    private ulong NextId()
    {
        if (_nextId == _idEnd)
        {
            _nextId = IntervalTreeHandle.Reserve(IdBlock);
            _idEnd = _nextId + IdBlock;
        }

        return _nextId++;
    }

    private Leaf NewRootLeaf()
    {
        var leaf = new Leaf();
        _firstLeaf = leaf;
        _height = 1;
        return leaf;
    }
}
