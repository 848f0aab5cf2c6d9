using BenchmarkDotNet.Attributes;

namespace IntervalNotifier.Benchmarks.B2_Walk;

/// <summary>
/// B2 — the walk: one invalidation (begin + end) in an address space of n random small
/// subscriptions, for queries that hit exactly k of them. Single-pass callbacks only set the
/// sequence; two-pass callbacks also take a pooled record that the finish pass returns.
/// Queries are either a small cycled set (256 ranges) or drawn from the whole space (4,096
/// distinct ranges, so that the working set is the index rather than a few cached paths).
/// Baseline: a lock over a sorted array searched by start with the longest length as the
/// look-back bound; also a lock and a list scanned linearly.
/// </summary>
[MemoryDiagnoser]
public class WalkBenchmarks
{
    private const int CycledQueryCount = 256;
    private const int WholeSpaceQueryCount = 4096;
    private AddressSpace _single = null!;
    private AddressSpace _twoPass = null!;
    private LockedListAddressSpace _list = null!;
    private LockedSortedArrayAddressSpace _sorted = null!;
    private InvalidationRange[] _queries = null!;
    private int _mask;
    private int _next;

    public static IEnumerable<int> Sizes => SuiteConfig.Smoke ? [1000] : [1_000, 10_000, 100_000, 1_000_000];

    [ParamsSource(nameof(Sizes))]
    public int N { get; set; }

    [Params(0, 1, 16)]
    public int Hits { get; set; }

    [Params("cycled", "whole-space")]
    public string Queries { get; set; } = "cycled";

    // Each benchmark builds only what it measures (every case is a process of its own, and
    // subscribing 10^6 ranges four times over would dominate the run).
    private (ulong Start, ulong Last, int Id)[] SetupQueries()
    {
        (ulong Start, ulong Last, int Id)[] intervals = Workloads.RandomSmall(N);
        var index = new SortedArrayIntervals(intervals);
        _queries = QueriesHitting(index, Hits, N, Queries == "cycled" ? CycledQueryCount : WholeSpaceQueryCount);
        _mask = _queries.Length - 1;
        return intervals;
    }

    [GlobalSetup(Target = nameof(LockedSortedArray))]
    public void SetupLockedSortedArray() => _sorted = new LockedSortedArrayAddressSpace(SetupQueries());

    [GlobalSetup(Target = nameof(LockedList))]
    public void SetupLockedList()
    {
        _list = new LockedListAddressSpace();
        foreach ((ulong start, ulong last, int _) in SetupQueries())
        {
            _list.Subscribe(start, last);
        }
    }

    [GlobalSetup(Target = nameof(SinglePass))]
    public void SetupSinglePass()
    {
        _single = new AddressSpace();
        var setSequence = new SetSequenceInvalidator();
        foreach ((ulong start, ulong last, int _) in SetupQueries())
        {
            _single.SubscribeInclusive(start, last, setSequence);
        }
    }

    [GlobalSetup(Target = nameof(TwoPass))]
    public void SetupTwoPass()
    {
        _twoPass = new AddressSpace();
        var pooled = new PooledTwoPassInvalidator(new FinishRecordPool<FinishRecord>(64));
        foreach ((ulong start, ulong last, int _) in SetupQueries())
        {
            _twoPass.SubscribeInclusive(start, last, pooled);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _single?.Dispose();
        _twoPass?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "locked sorted array")]
    public int LockedSortedArray()
    {
        InvalidationRange q = _queries[_next++ & _mask];
        return _sorted.Invalidate(q.Start, q.Last);
    }

    [Benchmark(Description = "locked list scan")]
    public int LockedList()
    {
        InvalidationRange q = _queries[_next++ & _mask];
        return _list.Invalidate(q.Start, q.Last);
    }

    [Benchmark(Description = "AddressSpace, single-pass")]
    public void SinglePass() => _single.BeginInvalidation(in _queries[_next++ & _mask]).Dispose();

    [Benchmark(Description = "AddressSpace, two-pass pooled")]
    public void TwoPass() => _twoPass.BeginInvalidation(in _queries[_next++ & _mask]).Dispose();

    // `count` distinct queries (a power of two) that hit exactly k subscriptions, from the whole
    // space, found by trial against a sorted index.
    internal static InvalidationRange[] QueriesHitting(SortedArrayIntervals index, int k, int n, int count)
    {
        var random = new Random(7 + k);
        var result = new HashSet<(ulong, ulong)>();
        ulong space = (ulong)n * Workloads.Spacing;
        while (result.Count < count)
        {
            ulong start = (ulong)random.NextInt64((long)space);
            ulong last = start;
            int hits = index.CountOverlapping(start, last);
            while (hits < k && last - start < 1 << 16) // near the top there may be too few left
            {
                last += 1 + (ulong)random.Next(4);
                hits = index.CountOverlapping(start, last);
            }

            if (hits == k)
            {
                result.Add((start, last));
            }
        }

        return [.. result.Select(q => InvalidationRange.Inclusive(q.Item1, q.Item2)).OrderBy(_ => random.Next())];
    }
}
