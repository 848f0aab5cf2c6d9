using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using IntervalNotifier.Collections;

namespace IntervalNotifier.Benchmarks.B3_IntervalTree;

/// <summary>
/// B3 — one insert, and one remove, on their own: each iteration inserts (or removes) a batch
/// of <see cref="Batch"/> extra intervals drawn from the whole space, one per invocation, and
/// the iteration's setup or cleanup puts the structure back. The locked list is left out: its
/// insert is an append and its remove a linear search (the Mutate category shows it).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[InvocationCount(Batch)]
public class IntervalTreeUpdateBenchmarks
{
    /// <summary>Invocations per iteration, one extra interval each.</summary>
    public const int Batch = 4096;

    private IntervalTree<IntervalTreeBenchmarks.Payload> _tree = null!;
    private AvlIntervalTree<IntervalTreeBenchmarks.AvlNode> _avl = null!;
    private SortedArrayIntervals _sorted = null!;
    private SortedSetIntervals _set = null!;
    private (ulong Start, ulong Last, int Id)[] _extra = null!;
    private IntervalTreeBenchmarks.Payload[] _payloads = null!;
    private IntervalTreeBenchmarks.AvlNode[] _nodes = null!;
    private readonly IntervalTreeHandle[] _handles = new IntervalTreeHandle[Batch];
    private int _next;

    public static IEnumerable<int> Sizes => IntervalTreeBenchmarks.Sizes;

    [ParamsSource(nameof(Sizes))]
    public int N { get; set; }

    [Params(IntervalTreeBenchmarks.Dataset.RandomSmall, IntervalTreeBenchmarks.Dataset.Nested)]
    public IntervalTreeBenchmarks.Dataset Data { get; set; }

    private (ulong Start, ulong Last, int Id)[] Intervals() =>
        Data == IntervalTreeBenchmarks.Dataset.RandomSmall ? Workloads.RandomSmall(N) : Workloads.Nested(N);

    [GlobalSetup(Targets = [nameof(Insert_BPlusTree), nameof(Remove_BPlusTree)])]
    public void SetupBPlusTree()
    {
        _extra = Workloads.Extra(N, Batch, N);
        _tree = new IntervalTree<IntervalTreeBenchmarks.Payload>();
        foreach ((ulong s, ulong l, int id) in Intervals())
        {
            _tree.Insert(s, l, new IntervalTreeBenchmarks.Payload(id));
        }

        _payloads = [.. _extra.Select(e => new IntervalTreeBenchmarks.Payload(e.Id))];
    }

    [GlobalSetup(Targets = [nameof(Insert_Avl), nameof(Remove_Avl)])]
    public void SetupAvl()
    {
        _extra = Workloads.Extra(N, Batch, N);
        _avl = new AvlIntervalTree<IntervalTreeBenchmarks.AvlNode>();
        foreach ((ulong s, ulong l, int id) in Intervals())
        {
            _avl.Insert(new IntervalTreeBenchmarks.AvlNode(s, l, id));
        }

        _nodes = [.. _extra.Select(e => new IntervalTreeBenchmarks.AvlNode(e.Start, e.Last, e.Id))];
    }

    [GlobalSetup(Targets = [nameof(Insert_SortedArray), nameof(Remove_SortedArray)])]
    public void SetupSortedArray()
    {
        _extra = Workloads.Extra(N, Batch, N);
        _sorted = new SortedArrayIntervals(Intervals());
    }

    [GlobalSetup(Targets = [nameof(Insert_SortedSet), nameof(Remove_SortedSet)])]
    public void SetupSortedSet()
    {
        _extra = Workloads.Extra(N, Batch, N);
        _set = new SortedSetIntervals(Intervals());
    }

    // Insert: the iteration inserts the batch; its cleanup removes it again.
    [IterationSetup(Targets = [nameof(Insert_BPlusTree), nameof(Insert_Avl), nameof(Insert_SortedArray), nameof(Insert_SortedSet)])]
    public void BeforeInserts() => _next = 0;

    [IterationCleanup(Target = nameof(Insert_BPlusTree))]
    public void AfterInsertsBPlusTree() => RemoveInserted(_tree);

    [IterationCleanup(Target = nameof(Insert_Avl))]
    public void AfterInsertsAvl() => RemoveInserted(_avl);

    [IterationCleanup(Target = nameof(Insert_SortedArray))]
    public void AfterInsertsSortedArray() => RemoveInserted(_sorted);

    [IterationCleanup(Target = nameof(Insert_SortedSet))]
    public void AfterInsertsSortedSet() => RemoveInserted(_set);

    // Remove: the iteration's setup inserts the batch; the iteration removes it.
    [IterationSetup(Target = nameof(Remove_BPlusTree))]
    public void BeforeRemovesBPlusTree() => InsertBatch(_tree);

    [IterationSetup(Target = nameof(Remove_Avl))]
    public void BeforeRemovesAvl() => InsertBatch(_avl);

    [IterationSetup(Target = nameof(Remove_SortedArray))]
    public void BeforeRemovesSortedArray() => InsertBatch(_sorted);

    [IterationSetup(Target = nameof(Remove_SortedSet))]
    public void BeforeRemovesSortedSet() => InsertBatch(_set);

    // After a remove iteration (the jitting stage runs only one invocation): remove the rest of the batch.
    [IterationCleanup(Target = nameof(Remove_BPlusTree))]
    public void AfterRemovesBPlusTree()
    {
        while (_next < Batch)
        {
            Remove_BPlusTree();
        }
    }

    [IterationCleanup(Target = nameof(Remove_Avl))]
    public void AfterRemovesAvl()
    {
        while (_next < Batch)
        {
            Remove_Avl();
        }
    }

    [IterationCleanup(Target = nameof(Remove_SortedArray))]
    public void AfterRemovesSortedArray()
    {
        while (_next < Batch)
        {
            Remove_SortedArray();
        }
    }

    [IterationCleanup(Target = nameof(Remove_SortedSet))]
    public void AfterRemovesSortedSet()
    {
        while (_next < Batch)
        {
            Remove_SortedSet();
        }
    }

    [BenchmarkCategory("Insert"), Benchmark(Baseline = true, Description = "sorted array")]
    public void Insert_SortedArray()
    {
        (ulong s, ulong l, int id) = _extra[_next++ & (Batch - 1)];
        _sorted.Insert(s, l, id);
    }

    [BenchmarkCategory("Insert"), Benchmark(Description = "B+ tree")]
    public void Insert_BPlusTree()
    {
        int i = _next++ & (Batch - 1);
        (ulong s, ulong l, int _) = _extra[i];
        _handles[i] = _tree.Insert(s, l, _payloads[i]);
    }

    [BenchmarkCategory("Insert"), Benchmark(Description = "AVL tree")]
    public void Insert_Avl() => _avl.Insert(_nodes[_next++ & (Batch - 1)]);

    [BenchmarkCategory("Insert"), Benchmark(Description = "SortedSet")]
    public void Insert_SortedSet()
    {
        (ulong s, ulong l, int id) = _extra[_next++ & (Batch - 1)];
        _set.Insert(s, l, id);
    }

    [BenchmarkCategory("Remove"), Benchmark(Baseline = true, Description = "sorted array")]
    public bool Remove_SortedArray()
    {
        (ulong s, ulong _, int id) = _extra[_next++ & (Batch - 1)];
        return _sorted.Remove(s, id);
    }

    [BenchmarkCategory("Remove"), Benchmark(Description = "B+ tree")]
    public bool Remove_BPlusTree() => _tree.Remove(_handles[_next++ & (Batch - 1)]);

    [BenchmarkCategory("Remove"), Benchmark(Description = "AVL tree")]
    public void Remove_Avl() => _avl.Remove(_nodes[_next++ & (Batch - 1)]);

    [BenchmarkCategory("Remove"), Benchmark(Description = "SortedSet")]
    public bool Remove_SortedSet()
    {
        (ulong s, ulong l, int id) = _extra[_next++ & (Batch - 1)];
        return _set.Remove(s, l, id);
    }

    private void InsertBatch(IntervalTree<IntervalTreeBenchmarks.Payload> tree)
    {
        for (int i = 0; i < Batch; i++)
        {
            _handles[i] = tree.Insert(_extra[i].Start, _extra[i].Last, _payloads[i]);
        }

        _next = 0;
    }

    private void InsertBatch(AvlIntervalTree<IntervalTreeBenchmarks.AvlNode> tree)
    {
        foreach (IntervalTreeBenchmarks.AvlNode node in _nodes)
        {
            tree.Insert(node);
        }

        _next = 0;
    }

    private void InsertBatch(SortedArrayIntervals sorted)
    {
        foreach ((ulong s, ulong l, int id) in _extra)
        {
            sorted.Insert(s, l, id);
        }

        _next = 0;
    }

    private void InsertBatch(SortedSetIntervals set)
    {
        foreach ((ulong s, ulong l, int id) in _extra)
        {
            set.Insert(s, l, id);
        }

        _next = 0;
    }

    // Removes what the iteration inserted (the jitting stage runs only one invocation) and rewinds.
    private void RemoveInserted(IntervalTree<IntervalTreeBenchmarks.Payload> tree)
    {
        for (int i = 0; i < Math.Min(_next, Batch); i++)
        {
            tree.Remove(_handles[i]);
        }

        _next = 0;
    }

    private void RemoveInserted(AvlIntervalTree<IntervalTreeBenchmarks.AvlNode> tree)
    {
        for (int i = 0; i < Math.Min(_next, Batch); i++)
        {
            tree.Remove(_nodes[i]);
        }

        _next = 0;
    }

    private void RemoveInserted(SortedArrayIntervals sorted)
    {
        for (int i = 0; i < Math.Min(_next, Batch); i++)
        {
            sorted.Remove(_extra[i].Start, _extra[i].Id);
        }

        _next = 0;
    }

    private void RemoveInserted(SortedSetIntervals set)
    {
        for (int i = 0; i < Math.Min(_next, Batch); i++)
        {
            set.Remove(_extra[i].Start, _extra[i].Last, _extra[i].Id);
        }

        _next = 0;
    }
}
