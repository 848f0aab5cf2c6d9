// A copy of the library's AVL interval tree node (src/IntervalNotifier/Collections/), kept as B3's
// baseline for when the AVL leaves the library. Only the names and the namespace differ.
using System.Diagnostics;

namespace IntervalNotifier.Benchmarks.Baselines;

/// <summary>
/// The base class of an element of an <see cref="AvlIntervalTree{T}"/>: a closed interval
/// <c>[Start, Last]</c> of 64-bit values that carries its own tree links, so that the tree
/// allocates nothing per element (an <em>intrusive</em> tree: the element is the node).
/// </summary>
/// <typeparam name="TSelf">The derived type itself (<c>class Range : AvlIntervalTreeNode&lt;Range&gt;</c>).</typeparam>
/// <remarks>
/// The bounds are fixed at construction. A node belongs to at most one tree at a time;
/// the links are managed by the tree and are not visible to derived classes.
/// </remarks>
[DebuggerDisplay("[{Start}, {Last}]")]
public abstract class AvlIntervalTreeNode<TSelf> where TSelf : AvlIntervalTreeNode<TSelf>
{
    // Tree links, owned by AvlIntervalTree<TSelf>. 3 references + owner + max + height:
    // 48 bytes per node beyond the interval itself.
    internal TSelf? _left;
    internal TSelf? _right;
    internal TSelf? _parent;
    internal AvlIntervalTree<TSelf>? _tree;
    internal ulong _subtreeMaxLast;
    internal int _height;

    private readonly ulong _start;
    private readonly ulong _last;

    /// <summary>Creates a node for the closed interval <c>[start, last]</c>.</summary>
    /// <param name="start">The first value of the interval.</param>
    /// <param name="last">The last value of the interval, inclusive; may be <see cref="ulong.MaxValue"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="last"/> is less than <paramref name="start"/>.</exception>
    protected AvlIntervalTreeNode(ulong start, ulong last)
    {
        if (last < start)
        {
            throw new ArgumentOutOfRangeException(nameof(last), last, $"The interval's last value must not be less than its start ({start}).");
        }

        _start = start;
        _last = last;
    }

    /// <summary>The first value of the interval.</summary>
    public ulong Start => _start;

    /// <summary>The last value of the interval, inclusive.</summary>
    public ulong Last => _last;
}
