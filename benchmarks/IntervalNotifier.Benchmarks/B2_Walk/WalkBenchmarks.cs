using BenchmarkDotNet.Attributes;

namespace IntervalNotifier.Benchmarks.B2_Walk;

/// <summary>
/// B2 — the walk: one invalidation (begin + end) in an address space of n random small
/// subscriptions, for queries that hit exactly k of them. Single-pass callbacks only set the
/// sequence; two-pass callbacks also take a pooled record that the finish pass returns.
/// Baseline: a lock and a list scanned linearly.
/// </summary>
[MemoryDiagnoser]
public class WalkBenchmarks
{
    private const int QueryCount = 256;
    private AddressSpace _single = null!;
    private AddressSpace _twoPass = null!;
    private LockedListAddressSpace _list = null!;
    private InvalidationRange[] _queries = null!;
    private int _next;

    public static IEnumerable<int> Sizes => SuiteConfig.Smoke ? [1000] : [1_000, 10_000, 100_000, 1_000_000];

    [ParamsSource(nameof(Sizes))]
    public int N { get; set; }

    [Params(0, 1, 16)]
    public int Hits { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (ulong Start, ulong Last, int Id)[] intervals = Workloads.RandomSmall(N);
        _single = new AddressSpace();
        _twoPass = new AddressSpace();
        _list = new LockedListAddressSpace();
        var setSequence = new SetSequenceInvalidator();
        var pooled = new PooledTwoPassInvalidator(new FinishRecordPool<FinishRecord>(64));
        foreach ((ulong start, ulong last, int _) in intervals)
        {
            _single.SubscribeInclusive(start, last, setSequence);
            _twoPass.SubscribeInclusive(start, last, pooled);
            _list.Subscribe(start, last);
        }

        var index = new SortedArrayIntervals(intervals);
        _queries = QueriesHitting(index, Hits, N);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _single.Dispose();
        _twoPass.Dispose();
    }

    [Benchmark(Baseline = true, Description = "locked list scan")]
    public int LockedList()
    {
        InvalidationRange q = _queries[_next++ & (QueryCount - 1)];
        return _list.Invalidate(q.Start, q.Last);
    }

    [Benchmark(Description = "AddressSpace, single-pass")]
    public void SinglePass() => _single.BeginInvalidation(in _queries[_next++ & (QueryCount - 1)]).Dispose();

    [Benchmark(Description = "AddressSpace, two-pass pooled")]
    public void TwoPass() => _twoPass.BeginInvalidation(in _queries[_next++ & (QueryCount - 1)]).Dispose();

    // Queries that hit exactly k subscriptions, found by trial against a sorted index.
    private static InvalidationRange[] QueriesHitting(SortedArrayIntervals index, int k, int n)
    {
        var random = new Random(7 + k);
        var result = new List<InvalidationRange>();
        ulong space = (ulong)n * Workloads.Spacing;
        while (result.Count < QueryCount)
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
                result.Add(InvalidationRange.Inclusive(start, last));
            }
        }

        return [.. result];
    }
}
