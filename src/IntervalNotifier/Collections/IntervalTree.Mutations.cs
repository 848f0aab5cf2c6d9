namespace IntervalNotifier.Collections;

// Insert and remove below the public methods: descents, splits, borrows and merges.
public sealed partial class IntervalTree<T>
{
    // ---- Insert: descend to the leaf by start (a new element's insertion number is above every
    // ---- other in the tree, so it goes after every equal start); split full nodes on the way back.

    // Inserts into the subtree at `branch`; returns the new right sibling if `branch` split.
    private Branch? InsertInto(Branch branch, ulong start, ulong last, ulong id, T value)
    {
        int i = Math.Max(ChildFor(branch, start, id), 0);
        Node child = branch.Children[i]!;
        Node? right = child.IsLeaf ? InsertInto(AsLeaf(child), start, last, id, value) : InsertInto(AsBranch(child), start, last, id, value);
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
        if (node.IsLeaf)
        {
            Leaf leaf = AsLeaf(node);
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

        Branch branch = AsBranch(node);
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

    private int MinCount(Node node) => (node.IsLeaf ? _leafCapacity : _branchCapacity) / 2;

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
        if (from.IsLeaf)
        {
            Leaf source = AsLeaf(from);
            Leaf target = AsLeaf(to);
            int last = source.Count - 1;
            InsertEntry(target, 0, source.Starts[last], source.Lasts[last], source.Ids[last], source.Values[last]);
            RemoveEntries(source, last, 1);
        }
        else
        {
            Branch sourceBranch = AsBranch(from);
            int last = sourceBranch.Count - 1;
            InsertChild(AsBranch(to), 0, sourceBranch.Children[last]!);
            RemoveChildren(sourceBranch, last, 1);
        }
    }

    private static void MoveFirstToBack(Node from, Node to)
    {
        if (from.IsLeaf)
        {
            Leaf source = AsLeaf(from);
            Leaf target = AsLeaf(to);
            InsertEntry(target, target.Count, source.Starts[0], source.Lasts[0], source.Ids[0], source.Values[0]);
            RemoveEntries(source, 0, 1);
        }
        else
        {
            Branch sourceBranch = AsBranch(from);
            Branch target = AsBranch(to);
            InsertChild(target, target.Count, sourceBranch.Children[0]!);
            RemoveChildren(sourceBranch, 0, 1);
        }
    }

    // Moves everything of `right` to the end of `left`, its left sibling; `right` is then dropped.
    private static void Merge(Node left, Node right)
    {
        if (left.IsLeaf)
        {
            Leaf target = AsLeaf(left);
            Leaf source = AsLeaf(right);
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
            Branch targetBranch = AsBranch(left);
            Branch source = AsBranch(right);
            CopyChildren(source, 0, targetBranch, targetBranch.Count, source.Count);
            targetBranch.Count += source.Count;
        }
    }
}
