using BenchmarkDotNet.Attributes;

namespace IntervalNotifier.Benchmarks.B6_ReadSide;

/// <summary>
/// B6 — the read side: <c>ReadBegin</c> + <c>ReadRetry</c> of a subscription, uncontended and
/// while another thread invalidates an unrelated range in a loop. Baseline: the same protocol
/// with ReadBegin under a lock that the invalidations take too (what the kernel does with its
/// spinlock), in <see cref="LockedReadSide"/>.
/// </summary>
[MemoryDiagnoser]
public class ReadSideBenchmarks
{
    private AddressSpace _space = null!;
    private IntervalSubscription _mine = null!;
    private LockedReadSide _locked = null!;
    private Thread? _invalidator;
    private volatile bool _stop;

    [Params(false, true)]
    public bool Contended { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _space = new AddressSpace();
        _locked = new LockedReadSide();
        var invalidator = new SetSequenceInvalidator();
        _mine = _space.Subscribe(0, 4096, invalidator);
        _space.Subscribe(1 << 20, 4096, invalidator);
        if (Contended)
        {
            var unrelated = new InvalidationRange(1 << 20, (1 << 20) + 4096);
            _invalidator = new Thread(() =>
            {
                while (!_stop)
                {
                    _space.BeginInvalidation(unrelated).Dispose();
                    _locked.InvalidateUnrelated();
                }
            })
            { IsBackground = true };
            _invalidator.Start();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop = true;
        _invalidator?.Join();
        _space.Dispose();
    }

    [Benchmark(Baseline = true, Description = "ReadBegin under the lock + ReadRetry")]
    public bool Locked()
    {
        ulong seq = _locked.ReadBegin();
        return _locked.ReadRetry(seq);
    }

    [Benchmark(Description = "lock-free ReadBegin + ReadRetry")]
    public bool LockFree()
    {
        ulong seq = _mine.ReadBegin();
        return _mine.ReadRetry(seq);
    }
}
