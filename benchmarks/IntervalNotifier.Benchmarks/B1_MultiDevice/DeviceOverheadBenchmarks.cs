using BenchmarkDotNet.Attributes;

namespace IntervalNotifier.Benchmarks.B1_MultiDevice;

/// <summary>
/// B1's library overhead without the simulated devices' clock: N subscriptions to one range
/// whose callbacks do nothing but the protocol (set the sequence; two-pass: rent a record,
/// finish it). The slope over N is the library's cost per device, which B1's goal bounds
/// (two-pass with pooled records ≤ 15 ns per device, within 3× of single-pass's slope). The
/// pool before its per-thread caches (<see cref="BudgetedRecordPool{T}"/>) runs beside it, and
/// so do two references that say what limits the slope: two-pass with records of the devices'
/// own (no pool at all), and single-pass plus two compare-and-swaps per device (the floor of a
/// record path that claims a record and pushes it lock-free).
/// </summary>
[MemoryDiagnoser]
public class DeviceOverheadBenchmarks
{
    private readonly InvalidationRange _range = new(0, 4096);
    private AddressSpace _single = null!;
    private AddressSpace _twoPass = null!;
    private AddressSpace _budgeted = null!;
    private AddressSpace _embedded = null!;
    private AddressSpace _twoCas = null!;

    [Params(1, 16, 64)]
    public int Devices { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _single = new AddressSpace();
        _twoPass = new AddressSpace();
        _budgeted = new AddressSpace();
        _embedded = new AddressSpace();
        _twoCas = new AddressSpace();
        var pool = new FinishRecordPool<FinishRecord>(Devices);
        var budgeted = new BudgetedRecordPool<FinishRecord>(Devices);
        for (int i = 0; i < Devices; i++)
        {
            _single.Subscribe(0, 4096, new SetSequenceInvalidator());
            _twoPass.Subscribe(0, 4096, new PooledTwoPassInvalidator(pool));
            _budgeted.Subscribe(0, 4096, new BudgetedTwoPassInvalidator(budgeted));
            _embedded.Subscribe(0, 4096, new EmbeddedTwoPassInvalidator());
            _twoCas.Subscribe(0, 4096, new TwoCasInvalidator());
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _single.Dispose();
        _twoPass.Dispose();
        _budgeted.Dispose();
        _embedded.Dispose();
        _twoCas.Dispose();
    }

    [Benchmark(Baseline = true, Description = "single-pass")]
    public void SinglePass() => _single.BeginInvalidation(_range).Dispose();

    [Benchmark(Description = "two-pass, pooled records")]
    public void TwoPass() => _twoPass.BeginInvalidation(_range).Dispose();

    [Benchmark(Description = "two-pass, pool before the caches")]
    public void TwoPassBudgeted() => _budgeted.BeginInvalidation(_range).Dispose();

    [Benchmark(Description = "two-pass, records of the devices' own")]
    public void TwoPassEmbedded() => _embedded.BeginInvalidation(_range).Dispose();

    [Benchmark(Description = "single-pass + 2 CAS per device (floor)")]
    public void SinglePassTwoCas() => _twoCas.BeginInvalidation(_range).Dispose();
}
