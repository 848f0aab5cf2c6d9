using BenchmarkDotNet.Attributes;
using IntervalNotifier.Collections;

namespace IntervalNotifier.Benchmarks.B3_IntervalTree;

/// <summary>TEMPORARY: the B+ tree's query variants side by side (one process per case, the variant fixed per process).</summary>
[MemoryDiagnoser]
public class IntervalTreeVariantBenchmarks
{
    private IntervalTree<IntervalTreeBenchmarks.Payload> _tree = null!;
    private (ulong Start, ulong Last)[] _queries = null!;
    private int _next;

    [Params(100_000, 1_000_000)]
    public int N { get; set; }

    [Params(IntervalTreeBenchmarks.Dataset.RandomSmall, IntervalTreeBenchmarks.Dataset.Nested)]
    public IntervalTreeBenchmarks.Dataset Data { get; set; }

    [Params(0, 1, 2)]
    public int Variant { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        IntervalTreeExperiment.Variant = Variant;
        _queries = Workloads.Queries(N, IntervalTreeBenchmarks.QueryCount, 16);
        _tree = new IntervalTree<IntervalTreeBenchmarks.Payload>();
        var data = Data == IntervalTreeBenchmarks.Dataset.RandomSmall ? Workloads.RandomSmall(N) : Workloads.Nested(N);
        foreach ((ulong s, ulong l, int id) in data)
        {
            _tree.Insert(s, l, new IntervalTreeBenchmarks.Payload(id));
        }
    }

    [Benchmark]
    public int Query()
    {
        (ulong s, ulong l) = _queries[_next++ & (IntervalTreeBenchmarks.QueryCount - 1)];
        int hits = 0;
        foreach (IntervalTreeBenchmarks.Payload _ in _tree.Overlapping(s, l))
        {
            hits++;
        }

        return hits;
    }
}
