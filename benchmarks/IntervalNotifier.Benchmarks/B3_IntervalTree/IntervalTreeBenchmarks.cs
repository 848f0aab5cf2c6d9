using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using IntervalNotifier.Collections;

namespace IntervalNotifier.Benchmarks.B3_IntervalTree;

/// <summary>
/// B3 — the interval index: the library's B+-tree against the indexes a .NET user would write
/// (a sorted array with a look-back bound, the rust-lapper idea; a SortedSet of starts; a
/// locked linear list) and against the intrusive AVL tree it replaces. Overlap queries of 16
/// units drawn from the whole space (16,384 distinct ranges, so that the working set is the
/// index and not a few cached paths); mutations measured as "insert, query, remove, query" so
/// that lazily maintained structures cannot look free. Insert and remove on their own are in
/// <see cref="IntervalTreeUpdateBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class IntervalTreeBenchmarks
{
    /// <summary>Distinct query ranges (a power of two, at least 4,096).</summary>
    public const int QueryCount = 16_384;

    private IntervalTree<Payload> _tree = null!;
    private AvlIntervalTree<AvlNode> _avl = null!;
    private SortedArrayIntervals _sorted = null!;
    private SortedSetIntervals _set = null!;
    private LockedLinearList _list = null!;
    private (ulong Start, ulong Last)[] _queries = null!;
    private (ulong Start, ulong Last, int Id)[] _extra = null!;
    private Payload[] _extraPayloads = null!;
    private AvlNode[] _extraNodes = null!;
    private int _next;

    public enum Dataset
    {
        RandomSmall,
        Nested,
    }

    public static IEnumerable<int> Sizes => SuiteConfig.Smoke ? [1000] : [1_000, 10_000, 100_000, 1_000_000];

    [ParamsSource(nameof(Sizes))]
    public int N { get; set; }

    [Params(Dataset.RandomSmall, Dataset.Nested)]
    public Dataset Data { get; set; }

    /// <summary>The value the B+-tree stores per interval (what the address space would store: an object).</summary>
    public sealed class Payload(int id)
    {
        public int Id { get; } = id;
    }

    /// <summary>An element of the AVL baseline, which is intrusive.</summary>
    public sealed class AvlNode(ulong start, ulong last, int id) : AvlIntervalTreeNode<AvlNode>(start, last)
    {
        public int Id { get; } = id;
    }

    private (ulong Start, ulong Last, int Id)[] Intervals() => Data == Dataset.RandomSmall ? Workloads.RandomSmall(N) : Workloads.Nested(N);

    private void SetupCommon()
    {
        _queries = Workloads.Queries(N, QueryCount, 16);
        _extra = Workloads.Extra(N, QueryCount, N);
    }

    // Each benchmark builds only the structure it measures (every case is a process of its own).
    [GlobalSetup(Targets = [nameof(Query_BPlusTree), nameof(Mutate_BPlusTree)])]
    public void SetupBPlusTree()
    {
        SetupCommon();
        _tree = new IntervalTree<Payload>();
        foreach ((ulong s, ulong l, int id) in Intervals())
        {
            _tree.Insert(s, l, new Payload(id));
        }

        _extraPayloads = [.. _extra.Select(e => new Payload(e.Id))];
    }

    [GlobalSetup(Targets = [nameof(Query_Avl), nameof(Mutate_Avl)])]
    public void SetupAvl()
    {
        SetupCommon();
        _avl = new AvlIntervalTree<AvlNode>();
        foreach ((ulong s, ulong l, int id) in Intervals())
        {
            _avl.Insert(new AvlNode(s, l, id));
        }

        _extraNodes = [.. _extra.Select(e => new AvlNode(e.Start, e.Last, e.Id))];
    }

    [GlobalSetup(Targets = [nameof(Query_SortedArray), nameof(Mutate_SortedArray)])]
    public void SetupSortedArray()
    {
        SetupCommon();
        _sorted = new SortedArrayIntervals(Intervals());
    }

    [GlobalSetup(Targets = [nameof(Query_SortedSet), nameof(Mutate_SortedSet)])]
    public void SetupSortedSet()
    {
        SetupCommon();
        _set = new SortedSetIntervals(Intervals());
    }

    [GlobalSetup(Targets = [nameof(Query_LockedList), nameof(Mutate_LockedList)])]
    public void SetupLockedList()
    {
        SetupCommon();
        _list = new LockedLinearList(Intervals());
    }

    private int CountBPlusTree(ulong start, ulong last)
    {
        int hits = 0;
        foreach (Payload _ in _tree.Overlapping(start, last))
        {
            hits++;
        }

        return hits;
    }

    private int CountAvl(ulong start, ulong last)
    {
        int hits = 0;
        foreach (AvlNode _ in _avl.Overlapping(start, last))
        {
            hits++;
        }

        return hits;
    }

    [BenchmarkCategory("Query"), Benchmark(Baseline = true, Description = "sorted array")]
    public int Query_SortedArray()
    {
        (ulong s, ulong l) = _queries[_next++ & (QueryCount - 1)];
        return _sorted.CountOverlapping(s, l);
    }

    [BenchmarkCategory("Query"), Benchmark(Description = "B+ tree")]
    public int Query_BPlusTree()
    {
        (ulong s, ulong l) = _queries[_next++ & (QueryCount - 1)];
        return CountBPlusTree(s, l);
    }

    [BenchmarkCategory("Query"), Benchmark(Description = "AVL tree")]
    public int Query_Avl()
    {
        (ulong s, ulong l) = _queries[_next++ & (QueryCount - 1)];
        return CountAvl(s, l);
    }

    [BenchmarkCategory("Query"), Benchmark(Description = "SortedSet")]
    public int Query_SortedSet()
    {
        (ulong s, ulong l) = _queries[_next++ & (QueryCount - 1)];
        return _set.CountOverlapping(s, l);
    }

    [BenchmarkCategory("Query"), Benchmark(Description = "locked list")]
    public int Query_LockedList()
    {
        (ulong s, ulong l) = _queries[_next++ & (QueryCount - 1)];
        return _list.CountOverlapping(s, l);
    }

    [BenchmarkCategory("Mutate"), Benchmark(Baseline = true, Description = "sorted array")]
    public int Mutate_SortedArray()
    {
        int i = _next++ & (QueryCount - 1);
        (ulong xs, ulong xl, int id) = _extra[i];
        (ulong s, ulong l) = _queries[i];
        _sorted.Insert(xs, xl, id);
        int hits = _sorted.CountOverlapping(s, l);
        _sorted.Remove(xs, id);
        return hits + _sorted.CountOverlapping(s, l);
    }

    [BenchmarkCategory("Mutate"), Benchmark(Description = "B+ tree")]
    public int Mutate_BPlusTree()
    {
        int i = _next++ & (QueryCount - 1);
        (ulong xs, ulong xl, int _) = _extra[i];
        (ulong s, ulong l) = _queries[i];
        IntervalTreeHandle handle = _tree.Insert(xs, xl, _extraPayloads[i]);
        int hits = CountBPlusTree(s, l);
        _tree.Remove(handle);
        return hits + CountBPlusTree(s, l);
    }

    [BenchmarkCategory("Mutate"), Benchmark(Description = "AVL tree")]
    public int Mutate_Avl()
    {
        int i = _next++ & (QueryCount - 1);
        AvlNode x = _extraNodes[i];
        (ulong s, ulong l) = _queries[i];
        _avl.Insert(x);
        int hits = CountAvl(s, l);
        _avl.Remove(x);
        return hits + CountAvl(s, l);
    }

    [BenchmarkCategory("Mutate"), Benchmark(Description = "SortedSet")]
    public int Mutate_SortedSet()
    {
        int i = _next++ & (QueryCount - 1);
        (ulong xs, ulong xl, int id) = _extra[i];
        (ulong s, ulong l) = _queries[i];
        _set.Insert(xs, xl, id);
        int hits = _set.CountOverlapping(s, l);
        _set.Remove(xs, xl, id);
        return hits + _set.CountOverlapping(s, l);
    }

    [BenchmarkCategory("Mutate"), Benchmark(Description = "locked list")]
    public int Mutate_LockedList()
    {
        int i = _next++ & (QueryCount - 1);
        (ulong xs, ulong xl, int id) = _extra[i];
        (ulong s, ulong l) = _queries[i];
        _list.Insert(xs, xl, id);
        int hits = _list.CountOverlapping(s, l);
        _list.Remove(xs, xl, id);
        return hits + _list.CountOverlapping(s, l);
    }
}
