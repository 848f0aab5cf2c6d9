using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using IntervalNotifier.Collections;
using Microsoft.Extensions.ObjectPool;

namespace IntervalNotifier.Benchmarks.Baselines;

/// <summary>
/// The finish-record pool as it was before the per-thread caches (B5's and the per-device
/// overhead suite's baseline): a budget counter (one interlocked operation to rent, one to
/// return) in front of a pre-warmed <see cref="DefaultObjectPool{T}"/> (its fast slot or its
/// ConcurrentQueue). It plugs into the address space like the real pool, so both are measured
/// on the same record path.
/// </summary>
public sealed class BudgetedRecordPool<T> : IFinishRecordPool
    where T : FinishRecord, new()
{
    private readonly DefaultObjectPool<T> _pool;
    private readonly int _capacity;
    private int _rented;

    public BudgetedRecordPool(int capacity)
    {
        _capacity = capacity;
        _pool = new DefaultObjectPool<T>(new DefaultPooledObjectPolicy<T>(), capacity);
        T[] warm = [.. Enumerable.Range(0, capacity).Select(_ => _pool.Get())];
        foreach (T record in warm)
        {
            _pool.Return(record);
        }
    }

    public int Rented => Volatile.Read(ref _rented);

    public bool TryRent([NotNullWhen(true)] out T? record)
    {
        if (Interlocked.Increment(ref _rented) > _capacity)
        {
            Interlocked.Decrement(ref _rented);
            record = null;
            return false;
        }

        record = _pool.Get();
        Volatile.Write(ref record._pool, this);
        return true;
    }

    public void Return(T record)
    {
        if (record.ClaimHold(FinishRecord.ReturnHold) != 0 || !ReferenceEquals(Interlocked.CompareExchange(ref record._pool, null, this), this))
        {
            throw new InvalidOperationException("not rented here");
        }

        ReturnCore(record);
    }

    void IFinishRecordPool.ReturnFromCore(FinishRecord record, Thread? callingThread)
    {
        record._pool = null;
        ReturnCore(Unsafe.As<T>(record));
    }

    void IFinishRecordPool.SpillAll(RecordCache cache) => throw new NotSupportedException("this pool has no caches");

    private void ReturnCore(T record)
    {
        record.TryReset();
        record.Subscription = null;
        record._next = null;
        record.ReleaseHold();
        _pool.Return(record);
        Interlocked.Decrement(ref _rented);
    }
}
