using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.ObjectPool;

namespace IntervalNotifier.Benchmarks.B5_Pool;

/// <summary>
/// B5 — the pool: rent and return of finish records with 1 and with 64 records out at once (the
/// 64-device case: rent all, then return all), against <c>new</c>, against a plain
/// <see cref="DefaultObjectPool{T}"/> (the baseline; its Get never fails: an empty pool
/// creates), and against the pool before its per-thread caches (<see cref="BudgetedRecordPool{T}"/>).
/// Reported per record.
/// </summary>
[MemoryDiagnoser]
public class PoolBenchmarks
{
    private DefaultObjectPool<Record> _plain = null!;
    private FinishRecordPool<Record> _pool = null!;
    private BudgetedRecordPool<Record> _budgeted = null!;
    private IFinishRecordPool _core = null!;
    private Record[] _out = null!;
    private Thread? _thread;

    [Params(1, 64)]
    public int Out { get; set; }

    public sealed class Record : FinishRecord
    {
        public long Deadline;
    }

    [GlobalSetup]
    public void Setup()
    {
        _plain = new DefaultObjectPool<Record>(new DefaultPooledObjectPolicy<Record>(), Out);
        _pool = new FinishRecordPool<Record>(Out);
        _budgeted = new BudgetedRecordPool<Record>(Out);
        _core = _pool;
        _out = new Record[Out];
        _thread = Thread.CurrentThread; // the core looks its thread up once per pass
    }

    [Benchmark(OperationsPerInvoke = 64, Description = "new Record()")]
    public long New()
    {
        long sum = 0;
        for (int n = 0; n < 64; n += Out)
        {
            for (int i = 0; i < Out; i++)
            {
                _out[i] = new Record { Deadline = i };
            }

            sum += _out[Out - 1].Deadline;
        }

        return sum;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = 64, Description = "DefaultObjectPool Get + Return")]
    public long PlainPool()
    {
        long sum = 0;
        for (int n = 0; n < 64; n += Out)
        {
            for (int i = 0; i < Out; i++)
            {
                Record r = _plain.Get();
                r.Deadline = i;
                _out[i] = r;
            }

            for (int i = 0; i < Out; i++)
            {
                sum += _out[i].Deadline;
                _plain.Return(_out[i]);
            }
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = 64, Description = "FinishRecordPool TryRent + Return")]
    public long FinishRecordPool()
    {
        long sum = 0;
        for (int n = 0; n < 64; n += Out)
        {
            for (int i = 0; i < Out; i++)
            {
                _pool.TryRent(out Record? r);
                r!.Deadline = i;
                _out[i] = r;
            }

            for (int i = 0; i < Out; i++)
            {
                sum += _out[i].Deadline;
                _pool.Return(_out[i]);
            }
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = 64, Description = "FinishRecordPool TryRent + core return")]
    public long FinishRecordPoolCoreReturn()
    {
        long sum = 0;
        for (int n = 0; n < 64; n += Out)
        {
            for (int i = 0; i < Out; i++)
            {
                _pool.TryRent(out Record? r);
                r!.Deadline = i;
                _out[i] = r;
            }

            for (int i = 0; i < Out; i++)
            {
                Record r = _out[i];
                sum += r.Deadline;
                r.ClaimHold(FinishRecord.ReturnHold); // the core holds every record it returns
                _core.ReturnFromCore(r, _thread);
            }
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = 64, Description = "before the caches: budget + DefaultObjectPool")]
    public long Budgeted()
    {
        long sum = 0;
        for (int n = 0; n < 64; n += Out)
        {
            for (int i = 0; i < Out; i++)
            {
                _budgeted.TryRent(out Record? r);
                r!.Deadline = i;
                _out[i] = r;
            }

            for (int i = 0; i < Out; i++)
            {
                sum += _out[i].Deadline;
                _budgeted.Return(_out[i]);
            }
        }

        return sum;
    }
}
