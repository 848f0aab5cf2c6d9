using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace IntervalNotifier.Collections;

public sealed partial class IntervalTree<T>
{
    // Slots per node, fixed at compile time so that a node is one object with its key arrays
    // inline (no array headers, no second pointer to chase). A tree may use fewer (the tests
    // build trees of 4 slots to get deep trees from few elements). Multiples of 8: the query
    // compares 8 keys at a time and may read a whole 8-key chunk past a node's count.
    internal const int LeafSlots = 64;
    internal const int BranchSlots = 64;

    // The smallest capacity a tree accepts: with fewer, a half-full node could hold one
    // child and the height would be unbounded.
    internal const int MinCapacity = 4;

    /// <summary>A leaf or a branch; <see cref="Count"/> is its number of entries or children.</summary>
    internal abstract class Node(bool isLeaf)
    {
        /// <summary>The number of entries (leaf) or children (branch) in use, from slot 0.</summary>
        public int Count;

        /// <summary>
        /// Whether this is a <see cref="Leaf"/>: the query tests this instead of the type (a type
        /// test on a node of a generic tree costs a lookup of the type and a cast helper call).
        /// </summary>
        public readonly bool IsLeaf = isLeaf;

        /// <summary>The branch that holds this node, or <see langword="null"/> for the root.</summary>
        public Branch? Parent;
    }

    /// <summary>
    /// Up to <see cref="LeafSlots"/> elements in ascending (start, id) order, in parallel
    /// arrays: a query reads only the starts and lasts, and touches a value only on a hit.
    /// </summary>
    internal sealed class Leaf() : Node(isLeaf: true)
    {
        public LeafKeys Starts;
        public LeafKeys Lasts;
        public LeafKeys Ids;
        public LeafValues Values;

        /// <summary>The next leaf in key order (the full enumeration follows these), or null for the last.</summary>
        public Leaf? Next;

        /// <summary>The previous leaf in key order, or null for the first.</summary>
        public Leaf? Previous;
    }

    /// <summary>
    /// Up to <see cref="BranchSlots"/> children in ascending key order. For child i:
    /// <c>MinStarts[i]</c>, <c>MinIds[i]</c> is the smallest key of its subtree (the separator
    /// the descent by (start, id) compares with) and <c>MaxLasts[i]</c> the largest last of its
    /// subtree (the augmentation an overlap query skips children by).
    /// </summary>
    internal sealed class Branch() : Node(isLeaf: false)
    {
        // What a query reads first, side by side; the ids only serve mutations.
        public BranchKeys MinStarts;
        public BranchKeys MaxLasts;
        public BranchChildren Children;
        public BranchKeys MinIds;
    }

    [InlineArray(LeafSlots)]
    internal struct LeafKeys
    {
        private ulong _element0;
    }

    [InlineArray(LeafSlots)]
    internal struct LeafValues
    {
        private T _element0;
    }

    [InlineArray(BranchSlots)]
    internal struct BranchKeys
    {
        private ulong _element0;
    }

    [InlineArray(BranchSlots)]
    internal struct BranchChildren
    {
        private Node? _element0;
    }

    // (start, id) of the smallest element under `node` (which must not be empty).
    private static ulong MinStartOf(Node node) => node.IsLeaf ? AsLeaf(node).Starts[0] : AsBranch(node).MinStarts[0];

    private static ulong MinIdOf(Node node) => node.IsLeaf ? AsLeaf(node).Ids[0] : AsBranch(node).MinIds[0];

    // The node as what its IsLeaf flag says it is, without a type test: in the shared code of a
    // tree of references, `is Leaf` and a cast look up the exact nested type at run time.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Leaf AsLeaf(Node node)
    {
        Debug.Assert(node.IsLeaf, "a branch taken for a leaf");
        return Unsafe.As<Leaf>(node);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Branch AsBranch(Node node)
    {
        Debug.Assert(!node.IsLeaf, "a leaf taken for a branch");
        return Unsafe.As<Branch>(node);
    }

    // The largest last under `node`: O(node's count).
    private static ulong MaxLastOf(Node node)
    {
        ReadOnlySpan<ulong> lasts = node.IsLeaf
            ? ((ReadOnlySpan<ulong>)AsLeaf(node).Lasts)[..node.Count]
            : ((ReadOnlySpan<ulong>)AsBranch(node).MaxLasts)[..node.Count];
        ulong max = 0;
        foreach (ulong last in lasts)
        {
            if (last > max)
            {
                max = last;
            }
        }

        return max;
    }

    // Whether (s1, id1) < (s2, id2): the order of the tree.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool KeyLess(ulong s1, ulong id1, ulong s2, ulong id2) => s1 < s2 || (s1 == s2 && id1 < id2);

    // The number of entries of `leaf` whose key is less than (start, id).
    private static int LowerBound(Leaf leaf, ulong start, ulong id)
    {
        int i = CountBelow(ref leaf.Starts[0], leaf.Count, start);
        while (i < leaf.Count && leaf.Starts[i] == start && leaf.Ids[i] < id)
        {
            i++;
        }

        return i;
    }

    // The last child of `branch` whose smallest key is at most (start, id), or -1 if (start, id)
    // is below every child: the child whose subtree holds (or would hold) that key.
    private static int ChildFor(Branch branch, ulong start, ulong id)
    {
        int i = CountBelow(ref branch.MinStarts[0], branch.Count, start);
        while (i < branch.Count && branch.MinStarts[i] == start && branch.MinIds[i] <= id)
        {
            i++;
        }

        return i - 1;
    }

    // The number of the first `count` of the ascending `keys` that are below `value`, 8 keys a
    // compare: measured cheaper than a binary search, whose branches the processor cannot predict.
    // Equal starts are then stepped over one by one (at most one node's worth).
    private static int CountBelow(ref ulong keys, int count, ulong value)
    {
        int below = 0;
        for (int chunk = 0; chunk < count; chunk += 8)
        {
            ulong mask;
            if (Vector512.IsHardwareAccelerated)
            {
                mask = Vector512.LessThan(Vector512.LoadUnsafe(ref keys, (nuint)chunk), Vector512.Create(value)).ExtractMostSignificantBits();
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Vector256<ulong> v = Vector256.Create(value);
                mask = Vector256.LessThan(Vector256.LoadUnsafe(ref keys, (nuint)chunk), v).ExtractMostSignificantBits()
                    | (Vector256.LessThan(Vector256.LoadUnsafe(ref keys, (nuint)chunk + 4), v).ExtractMostSignificantBits() << 4);
            }
            else
            {
                mask = 0;
                for (int i = 0; i < 8; i++)
                {
                    mask |= (Unsafe.Add(ref keys, chunk + i) < value ? 1UL : 0) << i;
                }
            }

            int n = count - chunk;
            if (n < 8)
            {
                mask &= (1UL << n) - 1;
            }

            below += BitOperations.PopCount(mask);
            if (mask != 0xFF)
            {
                break; // the keys ascend: none of the later ones is below either
            }
        }

        return below;
    }

    // The slot of `child` in its parent, found by its smallest key (keys are unique).
    private static int IndexInParent(Branch parent, Node child)
    {
        int i = ChildFor(parent, MinStartOf(child), MinIdOf(child));
        if ((uint)i >= (uint)parent.Count || !ReferenceEquals(parent.Children[i], child))
        {
            // Only a corrupted tree gets here; CheckInvariants names what is wrong.
            i = ((ReadOnlySpan<Node?>)parent.Children)[..parent.Count].IndexOf(child);
        }

        return i;
    }

    // ---- Moving entries and children. Vacated value and child slots are cleared so that the
    // ---- tree never keeps a removed element (or a dropped node) alive.

    private static void ClearValues(Leaf leaf, int from, int count)
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            ((Span<T>)leaf.Values).Slice(from, count).Clear();
        }
    }

    // Copies `count` entries from `source` slot `from` to `target` slot `to` (the nodes may be the same).
    private static void CopyEntries(Leaf source, int from, Leaf target, int to, int count)
    {
        ((ReadOnlySpan<ulong>)source.Starts).Slice(from, count).CopyTo(((Span<ulong>)target.Starts)[to..]);
        ((ReadOnlySpan<ulong>)source.Lasts).Slice(from, count).CopyTo(((Span<ulong>)target.Lasts)[to..]);
        ((ReadOnlySpan<ulong>)source.Ids).Slice(from, count).CopyTo(((Span<ulong>)target.Ids)[to..]);
        ((ReadOnlySpan<T>)source.Values).Slice(from, count).CopyTo(((Span<T>)target.Values)[to..]);
    }

    // Copies `count` children (with their keys) from `source` slot `from` to `target` slot `to`;
    // when the nodes differ, the moved children get `target` as their parent.
    private static void CopyChildren(Branch source, int from, Branch target, int to, int count)
    {
        ((ReadOnlySpan<ulong>)source.MinStarts).Slice(from, count).CopyTo(((Span<ulong>)target.MinStarts)[to..]);
        ((ReadOnlySpan<ulong>)source.MinIds).Slice(from, count).CopyTo(((Span<ulong>)target.MinIds)[to..]);
        ((ReadOnlySpan<ulong>)source.MaxLasts).Slice(from, count).CopyTo(((Span<ulong>)target.MaxLasts)[to..]);
        ((ReadOnlySpan<Node?>)source.Children).Slice(from, count).CopyTo(((Span<Node?>)target.Children)[to..]);
        if (!ReferenceEquals(source, target))
        {
            for (int i = to; i < to + count; i++)
            {
                target.Children[i]!.Parent = target;
            }
        }
    }

    private static void SetEntry(Leaf leaf, int at, ulong start, ulong last, ulong id, T value)
    {
        leaf.Starts[at] = start;
        leaf.Lasts[at] = last;
        leaf.Ids[at] = id;
        leaf.Values[at] = value;
    }

    private static void SetChild(Branch branch, int at, Node child)
    {
        branch.MinStarts[at] = MinStartOf(child);
        branch.MinIds[at] = MinIdOf(child);
        branch.MaxLasts[at] = MaxLastOf(child);
        branch.Children[at] = child;
        child.Parent = branch;
    }

    // Inserts an entry at `at` into a leaf that has room.
    private static void InsertEntry(Leaf leaf, int at, ulong start, ulong last, ulong id, T value)
    {
        CopyEntries(leaf, at, leaf, at + 1, leaf.Count - at);
        SetEntry(leaf, at, start, last, id, value);
        leaf.Count++;
    }

    // Inserts `child` at `at` into a branch that has room.
    private static void InsertChild(Branch branch, int at, Node child)
    {
        CopyChildren(branch, at, branch, at + 1, branch.Count - at);
        SetChild(branch, at, child);
        branch.Count++;
    }

    private static void RemoveEntries(Leaf leaf, int at, int count)
    {
        CopyEntries(leaf, at + count, leaf, at, leaf.Count - at - count);
        leaf.Count -= count;
        ClearValues(leaf, leaf.Count, count);
    }

    private static void RemoveChildren(Branch branch, int at, int count)
    {
        CopyChildren(branch, at + count, branch, at, branch.Count - at - count);
        branch.Count -= count;
        ((Span<Node?>)branch.Children).Slice(branch.Count, count).Clear();
    }

    // Refreshes the separator and augmentation that `branch` keeps for its child at `index`.
    private static void Refresh(Branch branch, int index)
    {
        Node child = branch.Children[index]!;
        branch.MinStarts[index] = MinStartOf(child);
        branch.MinIds[index] = MinIdOf(child);
        branch.MaxLasts[index] = MaxLastOf(child);
    }
}
