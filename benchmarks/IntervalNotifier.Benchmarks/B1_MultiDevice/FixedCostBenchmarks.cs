using BenchmarkDotNet.Attributes;
using IntervalNotifier.Benchmarks.B2_Walk;

namespace IntervalNotifier.Benchmarks.B1_MultiDevice;

/// <summary>
/// B1 "Fixed cost": the bracket's own price. One invalidation (begin + end) that hits nothing,
/// or exactly one protocol-only single-pass subscriber, in an address space of 1,000 random
/// small subscriptions (B2's smallest), against the locked sorted array's invalidation of the
/// same ranges (B2's baseline: one lock round trip, a binary search, and setting each hit's
/// sequence). The queries are 4,096 distinct ranges drawn from the whole space, as in B2, so
/// that neither side runs on a few cached paths.
/// </summary>
/// <remarks>
/// Per invalidation the library, on its fast path (AddressSpace.cs, the protocol comment), takes
/// no lock when the range hits nothing — three compare-and-swaps on the state word and one on the
/// bracket's generation — and one lock round trip when it hits (the last end of the odd period
/// makes S even under the lock). The baseline takes its lock once.
/// </remarks>
[MemoryDiagnoser]
public class FixedCostBenchmarks
{
    private const int QueryCount = 4096;
    private AddressSpace _space = null!;
    private LockedSortedArrayAddressSpace _sorted = null!;
    private InvalidationRange[] _queries = null!;
    private int _next;

    [Params(1_000)]
    public int N { get; set; }

    [Params(0, 1)]
    public int Hits { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (ulong Start, ulong Last, int Id)[] intervals = Workloads.RandomSmall(N);
        _queries = WalkBenchmarks.QueriesHitting(new SortedArrayIntervals(intervals), Hits, N, QueryCount);
        _sorted = new LockedSortedArrayAddressSpace(intervals);
        _space = new AddressSpace();
        var setSequence = new SetSequenceInvalidator();
        foreach ((ulong start, ulong last, int _) in intervals)
        {
            _space.SubscribeInclusive(start, last, setSequence);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _space.Dispose();

    [Benchmark(Baseline = true, Description = "locked sorted array")]
    public int LockedSortedArray()
    {
        InvalidationRange q = _queries[_next++ & (QueryCount - 1)];
        return _sorted.Invalidate(q.Start, q.Last);
    }

    [Benchmark(Description = "AddressSpace, single-pass")]
    public void AddressSpaceBracket() => _space.BeginInvalidation(in _queries[_next++ & (QueryCount - 1)]).Dispose();
}
