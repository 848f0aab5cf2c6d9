using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using IntervalNotifier.Collections;

namespace IntervalNotifier.Benchmarks.B3_IntervalTree;

/// <summary>
/// B3 — the interval tree against the indexes a .NET user would write: a sorted array with a
/// look-back bound (the rust-lapper idea), a SortedSet of starts, and a locked linear list.
/// Overlap queries of 16 units; mutations measured as "insert, query, remove, query" so that
/// lazily maintained structures cannot look free.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class IntervalTreeBenchmarks
{
    private const int QueryCount = 1024;
    private IntervalTree<Node> _tree = null!;
    private SortedArrayIntervals _sorted = null!;
    private SortedSetIntervals _set = null!;
    private LockedLinearList _list = null!;
    private (ulong Start, ulong Last)[] _queries = null!;
    private Node[] _extra = null!;
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

    public sealed class Node(ulong start, ulong last, int id) : IntervalTreeNode<Node>(start, last)
    {
        public int Id { get; } = id;
    }

    [GlobalSetup]
    public void Setup()
    {
        var intervals = Data == Dataset.RandomSmall ? Workloads.RandomSmall(N) : Workloads.Nested(N);
        _tree = new IntervalTree<Node>();
        foreach ((ulong s, ulong l, int id) in intervals)
        {
            _tree.Insert(new Node(s, l, id));
        }

        _sorted = new SortedArrayIntervals(intervals);
        _set = new SortedSetIntervals(intervals);
        _list = new LockedLinearList(intervals);
        _queries = Workloads.Queries(N, QueryCount, 16);
        _extra = [.. Workloads.RandomSmall(QueryCount, seed: 99).Select(i => new Node(i.Start * (ulong)N / QueryCount, i.Last * (ulong)N / QueryCount, N + i.Id))];
    }

    private int CountTree(ulong start, ulong last)
    {
        int hits = 0;
        foreach (Node _ in _tree.Overlapping(start, last))
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

    [BenchmarkCategory("Query"), Benchmark(Description = "IntervalTree")]
    public int Query_IntervalTree()
    {
        (ulong s, ulong l) = _queries[_next++ & (QueryCount - 1)];
        return CountTree(s, l);
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
        Node x = _extra[i];
        (ulong s, ulong l) = _queries[i];
        _sorted.Insert(x.Start, x.Last, x.Id);
        int hits = _sorted.CountOverlapping(s, l);
        _sorted.Remove(x.Start, x.Id);
        return hits + _sorted.CountOverlapping(s, l);
    }

    [BenchmarkCategory("Mutate"), Benchmark(Description = "IntervalTree")]
    public int Mutate_IntervalTree()
    {
        int i = _next++ & (QueryCount - 1);
        Node x = _extra[i];
        (ulong s, ulong l) = _queries[i];
        _tree.Insert(x);
        int hits = CountTree(s, l);
        _tree.Remove(x);
        return hits + CountTree(s, l);
    }

    [BenchmarkCategory("Mutate"), Benchmark(Description = "SortedSet")]
    public int Mutate_SortedSet()
    {
        int i = _next++ & (QueryCount - 1);
        Node x = _extra[i];
        (ulong s, ulong l) = _queries[i];
        _set.Insert(x.Start, x.Last, x.Id);
        int hits = _set.CountOverlapping(s, l);
        _set.Remove(x.Start, x.Last, x.Id);
        return hits + _set.CountOverlapping(s, l);
    }

    [BenchmarkCategory("Mutate"), Benchmark(Description = "locked list")]
    public int Mutate_LockedList()
    {
        int i = _next++ & (QueryCount - 1);
        Node x = _extra[i];
        (ulong s, ulong l) = _queries[i];
        _list.Insert(x.Start, x.Last, x.Id);
        int hits = _list.CountOverlapping(s, l);
        _list.Remove(x.Start, x.Last, x.Id);
        return hits + _list.CountOverlapping(s, l);
    }
}
