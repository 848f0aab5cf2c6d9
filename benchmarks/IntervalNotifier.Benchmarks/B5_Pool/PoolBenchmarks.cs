using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.ObjectPool;

namespace IntervalNotifier.Benchmarks.B5_Pool;

/// <summary>
/// B5 — the pool: one rent and one return of a finish record, against <c>new</c> and against
/// a plain <see cref="DefaultObjectPool{T}"/> (whose Get never fails: an empty pool creates).
/// </summary>
[MemoryDiagnoser]
public class PoolBenchmarks
{
    private readonly DefaultObjectPool<Record> _plain = new(new DefaultPooledObjectPolicy<Record>(), 16);
    private readonly FinishRecordPool<Record> _pool = new(16);
    private readonly IFinishRecordPool _core;

    public PoolBenchmarks() => _core = _pool;

    public sealed class Record : FinishRecord
    {
        public long Deadline;
    }

    [Benchmark(Description = "new Record()")]
    public Record New() => new() { Deadline = 1 };

    [Benchmark(Baseline = true, Description = "DefaultObjectPool Get + Return")]
    public long PlainPool()
    {
        Record r = _plain.Get();
        r.Deadline = 1;
        _plain.Return(r);
        return r.Deadline;
    }

    [Benchmark(Description = "FinishRecordPool TryRent + Return")]
    public long FinishRecordPool()
    {
        _pool.TryRent(out Record? r);
        r!.Deadline = 1;
        _pool.Return(r);
        return r.Deadline;
    }

    [Benchmark(Description = "FinishRecordPool TryRent + core return")]
    public long FinishRecordPoolCoreReturn()
    {
        _pool.TryRent(out Record? r);
        r!.Deadline = 1;
        _core.ReturnFromCore(r);
        return r.Deadline;
    }
}
