using BenchmarkDotNet.Attributes;

namespace IntervalNotifier.Benchmarks.B1_MultiDevice;

/// <summary>
/// B1's library overhead without the simulated devices' clock: N subscriptions to one range
/// whose callbacks do nothing but the protocol (set the sequence; two-pass: rent a record,
/// finish it). The slope over N is the per-device overhead that B1's goal bounds (≤ 40 ns).
/// </summary>
[MemoryDiagnoser]
public class DeviceOverheadBenchmarks
{
    private AddressSpace _single = null!;
    private AddressSpace _twoPass = null!;
    private readonly InvalidationRange _range = new(0, 4096);

    [Params(1, 16, 64)]
    public int Devices { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _single = new AddressSpace();
        _twoPass = new AddressSpace();
        var pool = new FinishRecordPool<FinishRecord>(Devices);
        for (int i = 0; i < Devices; i++)
        {
            _single.Subscribe(0, 4096, new SetSequenceInvalidator());
            _twoPass.Subscribe(0, 4096, new PooledTwoPassInvalidator(pool));
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _single.Dispose();
        _twoPass.Dispose();
    }

    [Benchmark(Baseline = true, Description = "single-pass")]
    public void SinglePass() => _single.BeginInvalidation(_range).Dispose();

    [Benchmark(Description = "two-pass, pooled records")]
    public void TwoPass() => _twoPass.BeginInvalidation(_range).Dispose();
}
