using BenchmarkDotNet.Attributes;

namespace IntervalNotifier.Benchmarks.Suites;

/// <summary>
/// B6 — the read side: <c>ReadBegin</c> + <c>ReadRetry</c> of a subscription, uncontended and
/// while another thread invalidates an unrelated range in a loop. Baseline: the same protocol
/// with ReadBegin under the address space's lock (what the kernel does with its spinlock).
/// </summary>
[MemoryDiagnoser]
public class ReadSideBenchmarks
{
    private AddressSpace _space = null!;
    private IntervalSubscription _mine = null!;
    private Thread? _invalidator;
    private volatile bool _stop;

    [Params(false, true)]
    public bool Contended { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _space = new AddressSpace();
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
        ulong seq;
        lock (_space.SyncRoot)
        {
            seq = Volatile.Read(ref _mine._sequence);
            if (seq == _space.Sequence)
            {
                throw new InvalidOperationException("unexpected: the subscription is never invalidated here");
            }
        }

        return _mine.ReadRetry(seq);
    }

    [Benchmark(Description = "lock-free ReadBegin + ReadRetry")]
    public bool LockFree()
    {
        ulong seq = _mine.ReadBegin();
        return _mine.ReadRetry(seq);
    }
}
