using IntervalNotifier.Collections;

namespace IntervalNotifier.Tests.Collections;

public sealed class IntervalTreeTests(ITestOutputHelper output)
{
    private sealed class Node(ulong start, ulong last, int id) : IntervalTreeNode<Node>(start, last)
    {
        public int Id { get; } = id;

        public override string ToString() => $"#{Id} [{Start}, {Last}]";
    }

    private static List<Node> Overlapping(IntervalTree<Node> tree, ulong start, ulong last)
    {
        var result = new List<Node>();
        foreach (Node n in tree.Overlapping(start, last))
        {
            result.Add(n);
        }

        return result;
    }

    // The naive model: insertion-ordered list; overlap = filter, then stable sort by start.
    private static List<Node> ModelOverlapping(List<Node> model, ulong start, ulong last) =>
        [.. model.Where(n => n.Start <= last && start <= n.Last).OrderBy(n => n.Start)];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(20261125)]
    public void RandomOperations_AgainstNaiveList_MatchAndKeepInvariants(int seed)
    {
        var random = new Random(seed);
        var tree = new IntervalTree<Node>();
        var model = new List<Node>();
        int nextId = 0;
        try
        {
            for (int op = 0; op < 4000; op++)
            {
                int choice = random.Next(10);
                if (choice < 5 || model.Count == 0)
                {
                    // Small coordinates so that equal starts, nesting and shared bounds are common.
                    ulong start = (ulong)random.Next(0, 200);
                    ulong last = start + (ulong)(random.Next(4) == 0 ? random.Next(0, 150) : random.Next(0, 8));
                    var node = new Node(start, last, nextId++);
                    tree.Insert(node);
                    model.Add(node);
                }
                else if (choice < 8)
                {
                    Node victim = model[random.Next(model.Count)];
                    tree.Remove(victim);
                    model.Remove(victim);
                }
                else
                {
                    ulong qs = (ulong)random.Next(0, 260);
                    ulong ql = qs + (ulong)random.Next(0, 40);
                    Assert.Equal(ModelOverlapping(model, qs, ql), Overlapping(tree, qs, ql));
                    Assert.Equal(ModelOverlapping(model, qs, ql).Count > 0, tree.AnyOverlapping(qs, ql));
                }

                tree.CheckInvariants();
                Assert.Equal(model.Count, tree.Count);
            }

            // Full in-order enumeration: ascending start, insertion order among equal starts.
            Assert.Equal(model.OrderBy(n => n.Start).ToList(), tree.ToList());
        }
        catch
        {
            output.WriteLine($"seed = {seed}");
            throw;
        }
    }

    [Fact]
    public void Insert_EqualStarts_EnumerateInInsertionOrder()
    {
        var tree = new IntervalTree<Node>();
        var nodes = Enumerable.Range(0, 50).Select(i => new Node(10, 10 + (ulong)(i % 7), i)).ToList();
        foreach (Node n in nodes)
        {
            tree.Insert(n);
        }

        tree.CheckInvariants();
        Assert.Equal(nodes.Select(n => n.Id), Overlapping(tree, 0, 100).Select(n => n.Id));

        // Removing from the middle keeps the order of the rest.
        tree.Remove(nodes[25]);
        tree.Remove(nodes[0]);
        Assert.Equal(nodes.Where(n => n.Id is not (25 or 0)).Select(n => n.Id), tree.Select(n => n.Id));
    }

    [Fact]
    public void Bounds_ZeroAndMaxValue_AreFoundAndRejectedCorrectly()
    {
        var tree = new IntervalTree<Node>();
        var top = new Node(ulong.MaxValue, ulong.MaxValue, 1);
        var bottom = new Node(0, 0, 2);
        var all = new Node(0, ulong.MaxValue, 3);
        tree.Insert(top);
        tree.Insert(bottom);
        tree.CheckInvariants();

        Assert.Equal([top], Overlapping(tree, ulong.MaxValue, ulong.MaxValue));
        Assert.Equal([bottom], Overlapping(tree, 0, 0));
        Assert.Empty(Overlapping(tree, 1, ulong.MaxValue - 1));
        Assert.Equal([bottom, top], Overlapping(tree, 0, ulong.MaxValue));

        tree.Insert(all);
        tree.CheckInvariants();
        Assert.Equal([bottom, all], Overlapping(tree, 0, 0));
        Assert.Equal([all, top], Overlapping(tree, ulong.MaxValue, ulong.MaxValue));
        Assert.Equal([all], Overlapping(tree, 5, 5));
    }

    [Fact]
    public void Overlapping_QueryOutsideEveryInterval_FindsNothing()
    {
        var tree = new IntervalTree<Node>();
        tree.Insert(new Node(100, 200, 1));
        tree.Insert(new Node(150, 300, 2));
        Assert.Empty(Overlapping(tree, 0, 99));     // before the smallest start
        Assert.Empty(Overlapping(tree, 301, 400));  // after the largest last
        Assert.Equal(2, Overlapping(tree, 99, 301).Count);
        Assert.Single(Overlapping(tree, 300, 300));
        Assert.Single(Overlapping(tree, 0, 100));
    }

    [Fact]
    public void Insert_NodeAlreadyInATree_Throws()
    {
        var a = new IntervalTree<Node>();
        var b = new IntervalTree<Node>();
        var node = new Node(1, 2, 1);
        a.Insert(node);
        Assert.Throws<InvalidOperationException>(() => a.Insert(node));
        Assert.Throws<InvalidOperationException>(() => b.Insert(node));
        Assert.Throws<InvalidOperationException>(() => b.Remove(node));
        Assert.True(a.Contains(node));
        Assert.False(b.Contains(node));
        a.Remove(node);
        Assert.Throws<InvalidOperationException>(() => a.Remove(node));
        b.Insert(node);
        Assert.True(b.Contains(node));
    }

    [Fact]
    public void Constructor_InvertedInterval_ThrowsNamingLast()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Node(5, 4, 0));
        Assert.Equal("last", e.ParamName);
        var tree = new IntervalTree<Node>();
        Assert.Equal("last", Assert.Throws<ArgumentOutOfRangeException>(() => tree.Overlapping(5, 4)).ParamName);
    }

    [Fact]
    public void Overlapping_TreeChangedDuringEnumeration_Throws()
    {
        var tree = new IntervalTree<Node>();
        tree.Insert(new Node(1, 10, 1));
        tree.Insert(new Node(2, 10, 2));
        Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (Node n in tree.Overlapping(0, 20))
            {
                tree.Insert(new Node(3, 3, 3));
            }
        });
    }

    [Fact]
    public void Clear_RemovesEverything_AndNodesCanBeReinserted()
    {
        var tree = new IntervalTree<Node>();
        var nodes = Enumerable.Range(0, 100).Select(i => new Node((ulong)i, (ulong)i + 5, i)).ToList();
        nodes.ForEach(tree.Insert);
        tree.Clear();
        Assert.Equal(0, tree.Count);
        Assert.Null(tree.First);
        Assert.Empty(tree);
        nodes.ForEach(tree.Insert);
        tree.CheckInvariants();
        Assert.Equal(100, tree.Count);
    }

    [Fact]
    public void Height_SequentialInserts_StaysLogarithmic()
    {
        var tree = new IntervalTree<Node>();
        for (int i = 0; i < 1 << 16; i++)
        {
            tree.Insert(new Node((ulong)i, (ulong)i, i));
        }

        tree.CheckInvariants();
        // AVL: height <= 1.44 log2(n + 2).
        Assert.True(tree.First!.Start == 0);
        Assert.InRange(RootHeight(tree), 16, 24);
    }

    private static int RootHeight(IntervalTree<Node> tree)
    {
        Node n = tree.First!;
        while (n._parent is not null)
        {
            n = n._parent;
        }

        return n._height;
    }

    [Fact]
    public void Overlapping_WarmQuery_AllocatesNothing()
    {
        var tree = new IntervalTree<Node>();
        for (int i = 0; i < 1000; i++)
        {
            tree.Insert(new Node((ulong)i * 10, (ulong)i * 10 + 15, i));
        }

        int Count()
        {
            int c = 0;
            foreach (Node n in tree.Overlapping(500, 700))
            {
                c++;
            }

            return c;
        }

        Count();
        long before = GC.GetAllocatedBytesForCurrentThread();
        int total = 0;
        for (int i = 0; i < 100; i++)
        {
            total += Count();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(100 * 22, total);
    }

    [Fact]
    public void NullArguments_Throw()
    {
        var tree = new IntervalTree<Node>();
        Assert.Throws<ArgumentNullException>(() => tree.Insert(null!));
        Assert.Throws<ArgumentNullException>(() => tree.Remove(null!));
        Assert.Throws<ArgumentNullException>(() => tree.Contains(null!));
    }

    [Fact]
    public void Enumerator_EndsThenStaysEnded_ResetsAndDetectsChanges()
    {
        var tree = new IntervalTree<Node>();
        tree.Insert(new Node(1, 2, 1));
        IntervalTree<Node>.Enumerator e = tree.GetEnumerator();
        Assert.True(e.MoveNext());
        Assert.False(e.MoveNext());
        Assert.False(e.MoveNext());
        e.Reset();
        Assert.True(e.MoveNext());
        Assert.Equal(1, e.Current.Id);
        tree.Clear();
        Assert.Throws<InvalidOperationException>(() => e.MoveNext());

        tree.Insert(new Node(1, 2, 2));
        IntervalTree<Node>.OverlapEnumerator o = tree.Overlapping(0, 10).GetEnumerator();
        Assert.True(o.MoveNext());
        Assert.False(o.MoveNext());
        Assert.False(o.MoveNext());
    }

    public static TheoryData<string> Corruptions => ["height", "max", "parent", "count", "first", "order", "root-parent", "owner", "balance"];

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void CheckInvariants_NoticesEachKindOfCorruption(string corruption)
    {
        var tree = new IntervalTree<Node>();
        Node[] nodes = [.. Enumerable.Range(0, 7).Select(i => new Node((ulong)i * 10, (ulong)i * 10 + 5, i))];
        foreach (Node n in nodes)
        {
            tree.Insert(n);
        }

        tree.CheckInvariants();
        Node root = nodes[0];
        while (root._parent is not null)
        {
            root = root._parent;
        }

        Node leaf = nodes[6];
        switch (corruption)
        {
            case "height": leaf._height = 5; break;
            case "max": root._subtreeMaxLast = 1; break;
            case "parent": leaf._parent = null; break;
            case "count": tree.Insert(new Node(1000, 1000, 99)); root._right!._right!._right = null; break;
            case "first": tree.Remove(nodes[0]); nodes[1]._parent!._left = null; nodes[1]._tree = null; break;
            case "order": (root._left!, root._right!) = (root._right!, root._left!); break;
            case "root-parent": root._parent = leaf; break;
            case "owner": leaf._tree = new IntervalTree<Node>(); break;
            case "balance": root._right!._right!._right = new Node(100, 100, 100) { }; break;
        }

        Assert.Throws<InvalidOperationException>(tree.CheckInvariants);
    }

    private sealed class BareNode(ulong start, ulong last) : IntervalTreeNode<BareNode>(start, last);

    private sealed class BareInterval(ulong start, ulong last)
    {
        public ulong Start { get; } = start;

        public ulong Last { get; } = last;
    }

    [Fact]
    public void NodeLinks_CostAtMost64BytesBeyondTheIntervalItself()
    {
        const int Count = 10_000;
        var keep = new object[Count];
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Count; i++)
        {
            keep[i] = new BareInterval((ulong)i, (ulong)i);
        }

        long plain = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Count; i++)
        {
            keep[i] = new BareNode((ulong)i, (ulong)i);
        }

        long node = GC.GetAllocatedBytesForCurrentThread() - before;
        long perNode = (node - plain) / Count;
        output.WriteLine($"tree links: {perNode} bytes per node ({plain / Count} B for a bare interval object, {node / Count} B as a tree node)");
        Assert.InRange(perNode, 1, 64);
        GC.KeepAlive(keep);
    }
}
