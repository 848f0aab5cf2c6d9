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
    private int _version;

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
        Node? right = root is Leaf leaf ? InsertInto(leaf, start, last, id, value) : InsertInto((Branch)root, start, last, id, value);
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
        while (node is Branch branch)
        {
            int i = ChildFor(branch, handle.Start, handle.Id);
            if (i < 0)
            {
                return false;
            }

            node = branch.Children[i]!;
        }

        var leaf = (Leaf)node;
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

    /// <summary>
    /// Checks every structural invariant and throws <see cref="InvalidOperationException"/>
    /// naming the first one broken: key order by (start, insertion number) and
    /// <c>last &gt;= start</c>; each branch's per-child smallest key and largest last exactly
    /// equal to the child subtree's; node fill (every node but the root at least half full, a
    /// root branch with two children or more); parent links; every leaf at the same depth; the
    /// leaf chain (forward and back) covering every leaf in order; the count; the tree's
    /// smallest start and largest last. O(n); allocates; for tests and debugging.
    /// </summary>
    /// <exception cref="InvalidOperationException">An invariant does not hold.</exception>
    public void CheckInvariants()
    {
        if (_root is null)
        {
            if (_count != 0 || _firstLeaf is not null || _height != 0)
            {
                Broken("count", $"the tree has no root but Count is {_count}, height {_height}, first leaf {(_firstLeaf is null ? "null" : "set")}");
            }

            return;
        }

        if (_root.Parent is not null)
        {
            Broken("parent link", "the root has a parent");
        }

        var walk = new InvariantWalk();
        ulong maxLast = CheckNode(_root, 1, walk);
        if (walk.Count != _count)
        {
            Broken("count", $"Count is {_count} but the leaves hold {walk.Count} elements");
        }

        if (_count > 0 && (MinStartOf(_root) != _minStart || maxLast != _maxLast))
        {
            Broken("tree bounds", $"the tree keeps [{_minStart}, {_maxLast}] as its smallest start and largest last, the elements give [{MinStartOf(_root)}, {maxLast}]");
        }

        if (_count == 0 && (_minStart != ulong.MaxValue || _maxLast != 0))
        {
            Broken("tree bounds", "an empty tree must keep ulong.MaxValue and 0 as its smallest start and largest last");
        }

        List<Leaf> leaves = walk.Leaves;
        if (!ReferenceEquals(_firstLeaf, leaves[0]))
        {
            Broken("leaf link", "the first leaf is not the leftmost leaf");
        }

        for (int i = 0; i < leaves.Count; i++)
        {
            Leaf? expectedNext = i + 1 < leaves.Count ? leaves[i + 1] : null;
            Leaf? expectedPrevious = i > 0 ? leaves[i - 1] : null;
            if (!ReferenceEquals(leaves[i].Next, expectedNext))
            {
                Broken("leaf link", $"leaf {i}'s next link does not lead to leaf {i + 1} in key order");
            }

            if (!ReferenceEquals(leaves[i].Previous, expectedPrevious))
            {
                Broken("leaf link", $"leaf {i}'s previous link does not lead to leaf {i - 1} in key order");
            }
        }
    }

    private sealed class InvariantWalk
    {
        public readonly List<Leaf> Leaves = [];
        public int Count;
        public bool HasPrevious;
        public ulong PreviousStart;
        public ulong PreviousId;
    }

    // Checks the subtree at `node` (at `depth`, the root being 1) and returns its largest last.
    // Its smallest key is its first leaf's first, which each branch on the way checks against
    // its separator, so comparing a separator with the child's first separator (or entry) suffices.
    private ulong CheckNode(Node node, int depth, InvariantWalk walk)
    {
        bool isRoot = ReferenceEquals(node, _root);
        if (node is Leaf leaf)
        {
            if (depth != _height)
            {
                Broken("depth", $"a leaf is at depth {depth} but the tree's height is {_height}");
            }

            CheckFill(leaf.Count, isRoot ? (_count == 0 ? 0 : 1) : _leafCapacity / 2, _leafCapacity, isRoot, "leaf");
            walk.Leaves.Add(leaf);
            ulong maxLast = 0;
            for (int i = 0; i < leaf.Count; i++)
            {
                ulong start = leaf.Starts[i];
                ulong id = leaf.Ids[i];
                ulong last = leaf.Lasts[i];
                if (last < start)
                {
                    BrokenInterval(start, last);
                }

                if (id == 0 || (walk.HasPrevious && !KeyLess(walk.PreviousStart, walk.PreviousId, start, id)))
                {
                    BrokenOrder(walk, start, id);
                }

                walk.HasPrevious = true;
                walk.PreviousStart = start;
                walk.PreviousId = id;
                maxLast = Math.Max(maxLast, last);
            }

            walk.Count += leaf.Count;
            return maxLast;
        }

        var branch = (Branch)node;
        CheckFill(branch.Count, isRoot ? 2 : _branchCapacity / 2, _branchCapacity, isRoot, "branch");
        ulong branchMaxLast = 0;
        for (int i = 0; i < branch.Count; i++)
        {
            Node? child = branch.Children[i];
            if (child is null)
            {
                Broken("fill", $"a branch's child slot {i} is empty below its count {branch.Count}");
            }

            if (!ReferenceEquals(child.Parent, branch))
            {
                Broken("parent link", $"child {i} of a branch does not name it as its parent");
            }

            ulong maxLast = CheckNode(child, depth + 1, walk);
            if (branch.MinStarts[i] != MinStartOf(child) || branch.MinIds[i] != MinIdOf(child))
            {
                Broken("min start", $"a branch keeps (start {branch.MinStarts[i]}, #{branch.MinIds[i]}) as child {i}'s smallest key, the subtree's is (start {MinStartOf(child)}, #{MinIdOf(child)})");
            }

            if (branch.MaxLasts[i] != maxLast)
            {
                Broken("max last", $"a branch keeps {branch.MaxLasts[i]} as child {i}'s largest last, the subtree's is {maxLast}");
            }

            branchMaxLast = Math.Max(branchMaxLast, maxLast);
        }

        if (((ReadOnlySpan<Node?>)branch.Children)[branch.Count..].ContainsAnyExcept((Node?)null))
        {
            Broken("fill", $"a branch's slot past its count {branch.Count} still holds a node");
        }

        return branchMaxLast;
    }

    [DoesNotReturn]
    private static void BrokenInterval(ulong start, ulong last) =>
        Broken("interval", $"an element's last {last} is below its start {start}");

    [DoesNotReturn]
    private static void BrokenOrder(InvariantWalk walk, ulong start, ulong id) =>
        Broken("key order", id == 0 ? "an element has insertion number 0" : $"(start {start}, #{id}) follows (start {walk.PreviousStart}, #{walk.PreviousId})");

    private static void CheckFill(int count, int min, int max, bool isRoot, string kind)
    {
        if (count < min || count > max)
        {
            Broken("fill", $"a {(isRoot ? "root " : "")}{kind} holds {count}, outside [{min}, {max}]");
        }
    }

    [DoesNotReturn]
    private static void Broken(string invariant, string detail) =>
        throw new InvalidOperationException($"Interval tree invariant broken ({invariant}): {detail}.");

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

    // ---- Insert: descend to the leaf by start (a new element's insertion number is above every
    // ---- other in the tree, so it goes after every equal start); split full nodes on the way back.

    // Inserts into the subtree at `branch`; returns the new right sibling if `branch` split.
    private Branch? InsertInto(Branch branch, ulong start, ulong last, ulong id, T value)
    {
        int i = Math.Max(ChildFor(branch, start, id), 0);
        Node child = branch.Children[i]!;
        Node? right = child is Leaf leaf ? InsertInto(leaf, start, last, id, value) : InsertInto((Branch)child, start, last, id, value);
        if (i == 0 && start < branch.MinStarts[0])
        {
            // The new element is the smallest of child 0 (and stays in its left half if it split).
            branch.MinStarts[0] = start;
            branch.MinIds[0] = id;
        }

        if (right is null)
        {
            branch.MaxLasts[i] = Math.Max(branch.MaxLasts[i], last);
            return null;
        }

        branch.MaxLasts[i] = MaxLastOf(child);
        return AddChild(branch, i + 1, right);
    }

    // Inserts into `leaf`; returns the new right sibling if it split.
    private Leaf? InsertInto(Leaf leaf, ulong start, ulong last, ulong id, T value)
    {
        int at = LowerBound(leaf, start, id);
        int capacity = _leafCapacity;
        if (leaf.Count < capacity)
        {
            InsertEntry(leaf, at, start, last, id, value);
            return null;
        }

        // Split the capacity + 1 entries: the left keeps `keep`, the right takes the rest.
        int keep = (capacity + 1) / 2;
        var right = new Leaf();
        if (at < keep)
        {
            CopyEntries(leaf, keep - 1, right, 0, capacity - keep + 1);
            right.Count = capacity - keep + 1;
            leaf.Count = keep - 1;
            ClearValues(leaf, keep - 1, capacity - keep + 1);
            InsertEntry(leaf, at, start, last, id, value);
        }
        else
        {
            CopyEntries(leaf, keep, right, 0, capacity - keep);
            right.Count = capacity - keep;
            leaf.Count = keep;
            ClearValues(leaf, keep, capacity - keep);
            InsertEntry(right, at - keep, start, last, id, value);
        }

        right.Next = leaf.Next;
        right.Previous = leaf;
        if (leaf.Next is { } next)
        {
            next.Previous = right;
        }

        leaf.Next = right;
        return right;
    }

    // Inserts `child` at slot `at` of `branch`; returns the new right sibling if `branch` split.
    private Branch? AddChild(Branch branch, int at, Node child)
    {
        int capacity = _branchCapacity;
        if (branch.Count < capacity)
        {
            InsertChild(branch, at, child);
            return null;
        }

        int keep = (capacity + 1) / 2;
        var right = new Branch();
        if (at < keep)
        {
            CopyChildren(branch, keep - 1, right, 0, capacity - keep + 1);
            right.Count = capacity - keep + 1;
            branch.Count = keep - 1;
            ((Span<Node?>)branch.Children).Slice(keep - 1, capacity - keep + 1).Clear();
            InsertChild(branch, at, child);
        }
        else
        {
            CopyChildren(branch, keep, right, 0, capacity - keep);
            right.Count = capacity - keep;
            branch.Count = keep;
            ((Span<Node?>)branch.Children).Slice(keep, capacity - keep).Clear();
            InsertChild(right, at - keep, child);
        }

        return right;
    }

    // ---- Remove: descend by the unique key (start, id); on the way back refresh the child's
    // ---- separator and augmentation, and borrow from or merge with a sibling when it fell below half.

    private bool RemoveFrom(Node node, ulong start, ulong id, out ulong removedLast)
    {
        if (node is Leaf leaf)
        {
            int at = LowerBound(leaf, start, id);
            if (at == leaf.Count || leaf.Ids[at] != id || leaf.Starts[at] != start)
            {
                removedLast = 0;
                return false;
            }

            removedLast = leaf.Lasts[at];
            RemoveEntries(leaf, at, 1);
            return true;
        }

        var branch = (Branch)node;
        int i = ChildFor(branch, start, id);
        if (i < 0)
        {
            removedLast = 0;
            return false;
        }

        Node child = branch.Children[i]!;
        if (!RemoveFrom(child, start, id, out removedLast))
        {
            return false;
        }

        if (child.Count < MinCount(child))
        {
            Rebalance(branch, i);
        }
        else
        {
            if (branch.MinIds[i] == id && branch.MinStarts[i] == start)
            {
                branch.MinStarts[i] = MinStartOf(child);
                branch.MinIds[i] = MinIdOf(child);
            }

            if (removedLast == branch.MaxLasts[i])
            {
                branch.MaxLasts[i] = MaxLastOf(child);
            }
        }

        return true;
    }

    private int MinCount(Node node) => (node is Leaf ? _leafCapacity : _branchCapacity) / 2;

    // Child `i` of `branch` holds one less than half: borrow one from a sibling that has more
    // than half, or else merge it with a sibling (which then holds at most capacity - 1). The
    // right node of a merge goes into the left one, so the first leaf is never dropped.
    private void Rebalance(Branch branch, int i)
    {
        Node child = branch.Children[i]!;
        Node? left = i > 0 ? branch.Children[i - 1] : null;
        Node? right = i + 1 < branch.Count ? branch.Children[i + 1] : null;
        int min = MinCount(child);
        if (left is not null && left.Count > min)
        {
            MoveLastToFront(left, child);
            Refresh(branch, i - 1);
            Refresh(branch, i);
        }
        else if (right is not null && right.Count > min)
        {
            MoveFirstToBack(right, child);
            Refresh(branch, i);
            Refresh(branch, i + 1);
        }
        else if (left is not null)
        {
            Merge(left, child);
            RemoveChildren(branch, i, 1);
            Refresh(branch, i - 1);
        }
        else
        {
            Merge(child, right!);
            RemoveChildren(branch, i + 1, 1);
            Refresh(branch, i);
        }
    }

    private static void MoveLastToFront(Node from, Node to)
    {
        if (from is Leaf source)
        {
            var target = (Leaf)to;
            int last = source.Count - 1;
            InsertEntry(target, 0, source.Starts[last], source.Lasts[last], source.Ids[last], source.Values[last]);
            RemoveEntries(source, last, 1);
        }
        else
        {
            var sourceBranch = (Branch)from;
            int last = sourceBranch.Count - 1;
            InsertChild((Branch)to, 0, sourceBranch.Children[last]!);
            RemoveChildren(sourceBranch, last, 1);
        }
    }

    private static void MoveFirstToBack(Node from, Node to)
    {
        if (from is Leaf source)
        {
            var target = (Leaf)to;
            InsertEntry(target, target.Count, source.Starts[0], source.Lasts[0], source.Ids[0], source.Values[0]);
            RemoveEntries(source, 0, 1);
        }
        else
        {
            var sourceBranch = (Branch)from;
            var target = (Branch)to;
            InsertChild(target, target.Count, sourceBranch.Children[0]!);
            RemoveChildren(sourceBranch, 0, 1);
        }
    }

    // Moves everything of `right` to the end of `left`, its left sibling; `right` is then dropped.
    private static void Merge(Node left, Node right)
    {
        if (left is Leaf target)
        {
            var source = (Leaf)right;
            CopyEntries(source, 0, target, target.Count, source.Count);
            target.Count += source.Count;
            target.Next = source.Next;
            if (source.Next is { } next)
            {
                next.Previous = target;
            }
        }
        else
        {
            var targetBranch = (Branch)left;
            var source = (Branch)right;
            CopyChildren(source, 0, targetBranch, targetBranch.Count, source.Count);
            targetBranch.Count += source.Count;
        }
    }
}
