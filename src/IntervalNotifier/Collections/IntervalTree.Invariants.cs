using System.Diagnostics.CodeAnalysis;

namespace IntervalNotifier.Collections;

// The structural invariants, checked in O(n) for tests and debugging.
public sealed partial class IntervalTree<T>
{
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
}
