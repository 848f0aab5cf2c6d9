// A copy of the library's intrusive AVL interval tree (src/IntervalNotifier/Collections/), kept as B3's
// baseline for when the AVL leaves the library. Only the names and the namespace differ.
using System.Collections;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace IntervalNotifier.Benchmarks.Baselines;

/// <summary>
/// An augmented, self-balancing (AVL) interval tree over closed <c>[Start, Last]</c> 64-bit
/// intervals. It is intrusive: the elements derive from <see cref="AvlIntervalTreeNode{TSelf}"/>
/// and carry their own links, so inserting allocates nothing.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
/// <remarks>
/// <para>
/// Elements are ordered by <see cref="AvlIntervalTreeNode{TSelf}.Start"/>; elements with equal
/// starts keep their insertion order. Many elements may share the same bounds, and both
/// <c>0</c> and <see cref="ulong.MaxValue"/> are valid bounds.
/// </para>
/// <para>
/// Each node keeps the largest <c>Last</c> of its subtree, so an overlap query rejects whole
/// subtrees and visits O(log n + k) nodes for k results; it allocates nothing (the enumerator
/// is a struct). A query that lies after every interval's last value or before every start is
/// rejected in O(1). <see cref="Insert"/> and <see cref="Remove"/> are O(log n).
/// </para>
/// <para>Not thread-safe: callers serialize mutations and must not mutate while enumerating.</para>
/// </remarks>
[DebuggerDisplay("Count = {Count}")]
public sealed class AvlIntervalTree<T> : IEnumerable<T> where T : AvlIntervalTreeNode<T>
{
    private T? _root;
    private T? _first;
    private int _count;
    private int _version;

    /// <summary>The number of elements in the tree.</summary>
    public int Count => _count;

    /// <summary>The element with the smallest start (the first inserted among equal starts), or <see langword="null"/> when empty.</summary>
    public T? First => _first;

    /// <summary>Whether <paramref name="node"/> is an element of this tree. O(1).</summary>
    /// <param name="node">The node to look for.</param>
    /// <exception cref="ArgumentNullException"><paramref name="node"/> is <see langword="null"/>.</exception>
    public bool Contains(T node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return ReferenceEquals(node._tree, this);
    }

    /// <summary>Inserts <paramref name="node"/>, after every element with the same start. O(log n); allocates nothing.</summary>
    /// <param name="node">The node to insert; it must not be in any tree.</param>
    /// <exception cref="ArgumentNullException"><paramref name="node"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="node"/> is already in a tree.</exception>
    public void Insert(T node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (node._tree is not null)
        {
            throw new InvalidOperationException("The node is already an element of an interval tree.");
        }

        node._left = null;
        node._right = null;
        node._height = 1;
        node._subtreeMaxLast = node.Last;
        node._tree = this;
        _count++;
        _version++;

        T? parent = _root;
        if (parent is null)
        {
            node._parent = null;
            _root = node;
            _first = node;
            return;
        }

        ulong start = node.Start;
        while (true)
        {
            // Equal starts go right, so that in-order is insertion order among them.
            if (start < parent.Start)
            {
                if (parent._left is null)
                {
                    parent._left = node;
                    break;
                }

                parent = parent._left;
            }
            else
            {
                if (parent._right is null)
                {
                    parent._right = node;
                    break;
                }

                parent = parent._right;
            }
        }

        node._parent = parent;
        if (start < _first!.Start)
        {
            _first = node;
        }

        Retrace(parent);
    }

    /// <summary>Removes <paramref name="node"/> from the tree. O(log n); allocates nothing.</summary>
    /// <param name="node">An element of this tree.</param>
    /// <exception cref="ArgumentNullException"><paramref name="node"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="node"/> is not an element of this tree.</exception>
    public void Remove(T node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (!ReferenceEquals(node._tree, this))
        {
            throw new InvalidOperationException("The node is not an element of this interval tree.");
        }

        if (ReferenceEquals(node, _first))
        {
            // The first node has no left child: its in-order successor is the leftmost node
            // of its right subtree, or else its parent.
            _first = node._right is { } right ? Leftmost(right) : node._parent;
        }

        T? retraceFrom;
        if (node._left is null || node._right is null)
        {
            retraceFrom = node._parent;
            Replace(node, node._left ?? node._right);
        }
        else
        {
            // Two children: the in-order successor takes the node's place.
            T successor = Leftmost(node._right);
            if (ReferenceEquals(successor._parent, node))
            {
                retraceFrom = successor;
            }
            else
            {
                retraceFrom = successor._parent;
                Replace(successor, successor._right);
                successor._right = node._right;
                successor._right._parent = successor;
            }

            Replace(node, successor);
            successor._left = node._left;
            successor._left._parent = successor;
        }

        node._left = null;
        node._right = null;
        node._parent = null;
        node._tree = null;
        _count--;
        _version++;
        Retrace(retraceFrom);
    }

    /// <summary>Removes every element. O(n).</summary>
    public void Clear()
    {
        T? node = _first;
        while (node is not null)
        {
            T? next = Successor(node);
            node._tree = null;
            node = next;
        }

        // Links are cleared lazily: Insert resets them, and _tree marks membership.
        _root = null;
        _first = null;
        _count = 0;
        _version++;
    }

    /// <summary>Whether any element overlaps the closed interval <c>[start, last]</c>. O(log n); allocates nothing.</summary>
    /// <param name="start">The first value of the query.</param>
    /// <param name="last">The last value of the query, inclusive.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="last"/> is less than <paramref name="start"/>.</exception>
    public bool AnyOverlapping(ulong start, ulong last)
    {
        OverlapEnumerator e = Overlapping(start, last).GetEnumerator();
        return e.MoveNext();
    }

    /// <summary>
    /// The elements that overlap the closed interval <c>[start, last]</c>, in ascending start
    /// (insertion order among equal starts). Enumerating visits O(log n + k) nodes and allocates nothing.
    /// </summary>
    /// <param name="start">The first value of the query.</param>
    /// <param name="last">The last value of the query, inclusive.</param>
    /// <returns>A struct enumerable; the tree must not change while it is enumerated.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="last"/> is less than <paramref name="start"/>.</exception>
    [SuppressMessage("ApiDesign", "RS0041:Public members should not use oblivious types", Justification = "Analyzer false positive for a struct nested in a generic type; nothing here is oblivious.")]
    public OverlapEnumerable Overlapping(ulong start, ulong last)
    {
        if (last < start)
        {
            throw new ArgumentOutOfRangeException(nameof(last), last, $"The query's last value must not be less than its start ({start}).");
        }

        return new OverlapEnumerable(this, start, last);
    }

    /// <summary>Enumerates every element in ascending start. Allocates nothing when used through <c>foreach</c>.</summary>
    /// <returns>A struct enumerator; the tree must not change while it is used.</returns>
    [SuppressMessage("ApiDesign", "RS0041:Public members should not use oblivious types", Justification = "Analyzer false positive for a struct nested in a generic type; nothing here is oblivious.")]
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<T> IEnumerable<T>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// Checks every structural invariant (ordering, parent links, heights, AVL balance, the
    /// subtree-max augmentation, count, first) and throws <see cref="InvalidOperationException"/>
    /// naming the first one broken. O(n); for tests and debugging.
    /// </summary>
    /// <exception cref="InvalidOperationException">An invariant does not hold.</exception>
    public void CheckInvariants()
    {
        if (_root is not null && _root._parent is not null)
        {
            throw new InvalidOperationException("The root has a parent.");
        }

        int count = 0;
        T? previous = null;
        CheckSubtree(_root, ref count, ref previous);
        if (count != _count)
        {
            throw new InvalidOperationException($"Count is {_count} but the tree holds {count} nodes.");
        }

        T? leftmost = _root is null ? null : Leftmost(_root);
        if (!ReferenceEquals(leftmost, _first))
        {
            throw new InvalidOperationException("First is not the leftmost node.");
        }
    }

    private (int Height, ulong Max) CheckSubtree(T? node, ref int count, ref T? previous)
    {
        if (node is null)
        {
            return (0, 0);
        }

        if (!ReferenceEquals(node._tree, this))
        {
            throw new InvalidOperationException("A node does not name this tree as its owner.");
        }

        if (node._left is { } l && !ReferenceEquals(l._parent, node))
        {
            throw new InvalidOperationException("A left child's parent link is wrong.");
        }

        if (node._right is { } r && !ReferenceEquals(r._parent, node))
        {
            throw new InvalidOperationException("A right child's parent link is wrong.");
        }

        (int leftHeight, ulong leftMax) = CheckSubtree(node._left, ref count, ref previous);
        if (previous is not null && previous.Start > node.Start)
        {
            throw new InvalidOperationException("In-order starts are not ascending.");
        }

        previous = node;
        count++;
        (int rightHeight, ulong rightMax) = CheckSubtree(node._right, ref count, ref previous);

        int height = 1 + Math.Max(leftHeight, rightHeight);
        if (node._height != height)
        {
            throw new InvalidOperationException($"A node's height is {node._height}, expected {height}.");
        }

        if (Math.Abs(leftHeight - rightHeight) > 1)
        {
            throw new InvalidOperationException("A node is out of AVL balance.");
        }

        ulong max = Math.Max(node.Last, Math.Max(node._left is null ? 0 : leftMax, node._right is null ? 0 : rightMax));
        if (node._subtreeMaxLast != max)
        {
            throw new InvalidOperationException($"A node's subtree max is {node._subtreeMaxLast}, expected {max}.");
        }

        return (height, max);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int HeightOf(T? node) => node is null ? 0 : node._height;

    private static T Leftmost(T node)
    {
        while (node._left is { } left)
        {
            node = left;
        }

        return node;
    }

    private static T? Successor(T node)
    {
        if (node._right is { } right)
        {
            return Leftmost(right);
        }

        T? parent = node._parent;
        while (parent is not null && ReferenceEquals(node, parent._right))
        {
            node = parent;
            parent = parent._parent;
        }

        return parent;
    }

    // Puts `replacement` where `node` hangs from its parent (or the root).
    private void Replace(T node, T? replacement)
    {
        T? parent = node._parent;
        if (parent is null)
        {
            _root = replacement;
        }
        else if (ReferenceEquals(parent._left, node))
        {
            parent._left = replacement;
        }
        else
        {
            parent._right = replacement;
        }

        if (replacement is not null)
        {
            replacement._parent = parent;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update(T node)
    {
        T? left = node._left;
        T? right = node._right;
        int leftHeight = 0;
        int rightHeight = 0;
        ulong max = node.Last;
        if (left is not null)
        {
            leftHeight = left._height;
            if (left._subtreeMaxLast > max)
            {
                max = left._subtreeMaxLast;
            }
        }

        if (right is not null)
        {
            rightHeight = right._height;
            if (right._subtreeMaxLast > max)
            {
                max = right._subtreeMaxLast;
            }
        }

        node._height = 1 + (leftHeight > rightHeight ? leftHeight : rightHeight);
        node._subtreeMaxLast = max;
    }

    // Restores heights, balance and the subtree max on the path from `node` to the root.
    private void Retrace(T? node)
    {
        while (node is not null)
        {
            Update(node);
            int balance = HeightOf(node._left) - HeightOf(node._right);
            if (balance > 1)
            {
                T left = node._left!;
                if (HeightOf(left._left) < HeightOf(left._right))
                {
                    RotateLeft(left);
                }

                node = RotateRight(node);
            }
            else if (balance < -1)
            {
                T right = node._right!;
                if (HeightOf(right._right) < HeightOf(right._left))
                {
                    RotateRight(right);
                }

                node = RotateLeft(node);
            }

            node = node._parent;
        }
    }

    private T RotateLeft(T node)
    {
        T pivot = node._right!;
        node._right = pivot._left;
        if (pivot._left is { } inner)
        {
            inner._parent = node;
        }

        Replace(node, pivot);
        pivot._left = node;
        node._parent = pivot;
        Update(node);
        Update(pivot);
        return pivot;
    }

    private T RotateRight(T node)
    {
        T pivot = node._left!;
        node._left = pivot._right;
        if (pivot._right is { } inner)
        {
            inner._parent = node;
        }

        Replace(node, pivot);
        pivot._right = node;
        node._parent = pivot;
        Update(node);
        Update(pivot);
        return pivot;
    }

    // The first node, in order, of the subtree at `node` that overlaps [start, last].
    // If the left subtree reaches `start`, the first overlap (if there is one at all) lies in
    // it: its leftmost node with Last >= start either overlaps or starts after `last`, and
    // then nothing after it overlaps either. So the descent never has to back up.
    private static T? FirstOverlap(T? node, ulong start, ulong last)
    {
        while (node is not null)
        {
            T? left = node._left;
            if (left is not null && left._subtreeMaxLast >= start)
            {
                node = left;
                continue;
            }

            if (node.Start > last)
            {
                return null;
            }

            if (node.Last >= start)
            {
                return node;
            }

            T? right = node._right;
            node = right is not null && right._subtreeMaxLast >= start ? right : null;
        }

        return null;
    }

    // The next node after `node`, in order, that overlaps [start, last].
    private static T? NextOverlap(T node, ulong start, ulong last)
    {
        T? right = node._right;
        if (right is not null && right._subtreeMaxLast >= start)
        {
            return FirstOverlap(right, start, last);
        }

        while (true)
        {
            T? parent = node._parent;
            if (parent is null)
            {
                return null;
            }

            if (ReferenceEquals(parent._left, node))
            {
                // `parent` is the in-order successor of the subtree we leave.
                if (parent.Start > last)
                {
                    return null;
                }

                if (parent.Last >= start)
                {
                    return parent;
                }

                right = parent._right;
                if (right is not null && right._subtreeMaxLast >= start)
                {
                    return FirstOverlap(right, start, last);
                }
            }

            node = parent;
        }
    }

    /// <summary>The elements of a tree that overlap one closed interval; see <see cref="Overlapping"/>.</summary>
    public readonly struct OverlapEnumerable
    {
        private readonly AvlIntervalTree<T> _tree;
        private readonly ulong _start;
        private readonly ulong _last;

        internal OverlapEnumerable(AvlIntervalTree<T> tree, ulong start, ulong last)
        {
            _tree = tree;
            _start = start;
            _last = last;
        }

        /// <summary>Returns the struct enumerator.</summary>
        /// <returns>An enumerator positioned before the first overlapping element.</returns>
        [SuppressMessage("ApiDesign", "RS0041:Public members should not use oblivious types", Justification = "Analyzer false positive for a struct nested in a generic type; nothing here is oblivious.")]
        public OverlapEnumerator GetEnumerator() => new(_tree, _start, _last);
    }

    /// <summary>Enumerates the elements that overlap one closed interval, in ascending start.</summary>
    public struct OverlapEnumerator
    {
        private readonly AvlIntervalTree<T> _tree;
        private readonly ulong _start;
        private readonly ulong _last;
        private readonly int _version;
        private T? _current;
        private bool _started;

        internal OverlapEnumerator(AvlIntervalTree<T> tree, ulong start, ulong last)
        {
            _tree = tree;
            _start = start;
            _last = last;
            _version = tree._version;
            _current = null;
            _started = false;
        }

        /// <summary>The current element.</summary>
        public readonly T Current => _current!;

        /// <summary>Advances to the next overlapping element.</summary>
        /// <returns><see langword="false"/> when there is none.</returns>
        /// <exception cref="InvalidOperationException">The tree changed since the enumeration began.</exception>
        public bool MoveNext()
        {
            AvlIntervalTree<T> tree = _tree;
            if (tree._version != _version)
            {
                ThrowChanged();
            }

            if (_started)
            {
                if (_current is null)
                {
                    return false;
                }

                _current = NextOverlap(_current, _start, _last);
                return _current is not null;
            }

            _started = true;
            T? root = tree._root;

            // O(1) rejects: the query lies after every Last, or before every Start.
            if (root is null || root._subtreeMaxLast < _start || _last < tree._first!.Start)
            {
                return false;
            }

            _current = FirstOverlap(root, _start, _last);
            return _current is not null;
        }
    }

    /// <summary>Enumerates every element of a tree in ascending start.</summary>
    public struct Enumerator : IEnumerator<T>
    {
        private readonly AvlIntervalTree<T> _tree;
        private readonly int _version;
        private T? _current;
        private bool _started;

        internal Enumerator(AvlIntervalTree<T> tree)
        {
            _tree = tree;
            _version = tree._version;
            _current = null;
            _started = false;
        }

        /// <summary>The current element.</summary>
        public readonly T Current => _current!;

        readonly object IEnumerator.Current => Current;

        /// <summary>Advances to the next element.</summary>
        /// <returns><see langword="false"/> at the end.</returns>
        /// <exception cref="InvalidOperationException">The tree changed since the enumeration began.</exception>
        public bool MoveNext()
        {
            if (_tree._version != _version)
            {
                ThrowChanged();
            }

            if (!_started)
            {
                _started = true;
                _current = _tree._first;
            }
            else if (_current is not null)
            {
                _current = Successor(_current);
            }

            return _current is not null;
        }

        /// <summary>Restarts the enumeration.</summary>
        public void Reset()
        {
            _started = false;
            _current = null;
        }

        /// <summary>Does nothing.</summary>
        public readonly void Dispose()
        {
        }
    }

    private static void ThrowChanged() =>
        throw new InvalidOperationException("The interval tree changed while it was being enumerated.");
}
