using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.ObjectPool;

namespace IntervalNotifier;

/// <summary>The pool side that the core sees, whatever the record type.</summary>
internal interface IFinishRecordPool
{
    /// <summary>Takes a record back after its finish call (or unfinished, after a callback bug). The caller holds the record; the return releases the hold.</summary>
    void ReturnFromCore(FinishRecord record);
}

/// <summary>
/// A small, bounded pool of finish records over <see cref="DefaultObjectPool{T}"/>:
/// <see cref="TryRent"/> fails when <see cref="Capacity"/> records are out, or when the
/// <see cref="AllocationFaults"/> given to the constructor say this take fails. A failed rent
/// models a <c>GFP_NOWAIT</c> allocation failure: the subscriber then finishes its work in the
/// start pass and returns no record (the single-pass fallback).
/// </summary>
/// <typeparam name="T">The record type.</typeparam>
/// <remarks>
/// <para>
/// The pool is pre-warmed with <see cref="Capacity"/> records, so that renting and returning
/// allocate nothing. A rented record that a start pass returns goes back to the pool right after
/// its finish call, also when that call throws; the subscriber returns it with
/// <see cref="Return"/> only when it does not hand it to the core. Returning resets the record
/// (<see cref="FinishRecord.Reset"/>, then <see cref="FinishRecord.Subscription"/> cleared).
/// </para>
/// <para>Thread-safe and lock-free.</para>
/// </remarks>
[DebuggerDisplay("Rented = {Rented} of {Capacity}, Failures = {Failures}")]
public sealed class FinishRecordPool<T> : IFinishRecordPool where T : FinishRecord, new()
{
    private readonly DefaultObjectPool<T> _pool;
    private readonly AllocationFaults? _faults;
    private readonly int _capacity;
    private int _rented;
    private long _failures;

    /// <summary>Creates a pool of <paramref name="capacity"/> records, all allocated now.</summary>
    /// <param name="capacity">The most records that may be rented at once; at least 1.</param>
    /// <param name="faults">Which takes fail on purpose; <see langword="null"/> or <see cref="AllocationFaults.None"/> for none.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1.</exception>
    public FinishRecordPool(int capacity, AllocationFaults? faults = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _faults = ReferenceEquals(faults, AllocationFaults.None) ? null : faults;
        _pool = new DefaultObjectPool<T>(new DefaultPooledObjectPolicy<T>(), capacity);

        // Pre-warm: the budget below never lets more than `capacity` records out, and the
        // pool retains `capacity`, so after this it never creates again (on one thread; under
        // contention DefaultObjectPool may miss a free slot and create one spare record).
        var warm = new T[capacity];
        for (int i = 0; i < capacity; i++)
        {
            warm[i] = _pool.Get();
        }

        foreach (T record in warm)
        {
            _pool.Return(record);
        }
    }

    /// <summary>The most records that may be rented at once.</summary>
    public int Capacity => _capacity;

    /// <summary>The records rented and not yet returned.</summary>
    public int Rented => Volatile.Read(ref _rented);

    /// <summary>How many rents failed, by fault injection or because the pool was empty.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>
    /// Rents a record, unless the pool is empty or fault injection fails this take. Lock-free;
    /// allocates nothing. Never waits.
    /// </summary>
    /// <param name="record">The record, with <see cref="FinishRecord.Subscription"/> unset; <see langword="null"/> on failure.</param>
    /// <returns><see langword="false"/> when no record is available: finish the work synchronously and return no record.</returns>
    public bool TryRent([NotNullWhen(true)] out T? record)
    {
        if (_faults is not null && _faults.ShouldFail())
        {
            return Fail(out record);
        }

        if (Interlocked.Increment(ref _rented) > _capacity)
        {
            Interlocked.Decrement(ref _rented);
            return Fail(out record);
        }

        record = _pool.Get();
        Volatile.Write(ref record._pool, this);
        return true;
    }

    /// <summary>
    /// Returns a record that was rented but will not be handed to the core (for instance, the
    /// device work turned out to be complete already). Records handed to the core in a start
    /// pass are returned by the core; do not return those.
    /// </summary>
    /// <param name="record">A record rented from this pool.</param>
    /// <exception cref="ArgumentNullException"><paramref name="record"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The record is not rented from this pool (never, or returned already), or it was handed to the core by a start pass.</exception>
    public void Return(T record)
    {
        ArgumentNullException.ThrowIfNull(record);

        // Claim the record before anything else: a record that a finish list holds must not be
        // unlinked behind its back, and while this return holds it, no start pass can link it.
        if (record.ClaimHold(this) is not null)
        {
            throw new InvalidOperationException("The record was handed to the core by a start pass (or is being returned already); the core returns it to its pool after its finish call.");
        }

        if (!ReferenceEquals(Interlocked.CompareExchange(ref record._pool, null, this), this))
        {
            record.ReleaseHold();
            ThrowNotRented();
        }

        ReturnCore(record);
    }

    void IFinishRecordPool.ReturnFromCore(FinishRecord record)
    {
        // The caller holds the record (its finish list's hold, or the claim of a rejected
        // record), so nothing else can change it: a plain check suffices.
        Debug.Assert(record.Holder is not null, "The core returns a record it does not hold.");
        if (!ReferenceEquals(record._pool, this))
        {
            ThrowNotRented();
        }

        record._pool = null;

        // Only this pool's TryRent sets _pool to this pool, so the record is a T: skip the
        // (shared-generic, hence slow) cast.
        ReturnCore(Unsafe.As<T>(record));
    }

    private static void ThrowNotRented() =>
        throw new InvalidOperationException("The record is not rented from this pool: it was never rented from it, or it was returned already.");

    private void ReturnCore(T record)
    {
        try
        {
            record.ResetForPool();
        }
        finally
        {
            // Even when the user's reset throws, the record goes back: no record is ever lost.
            // The core's hold on a finished record ends here, just before the record becomes
            // rentable again, so no other invalidation can link it while it is on its way back.
            record.Subscription = null;
            record._next = null;
            record.ReleaseHold();
            _pool.Return(record);
            Interlocked.Decrement(ref _rented);
        }
    }

    private bool Fail(out T? record)
    {
        Interlocked.Increment(ref _failures);
        record = null;
        return false;
    }
}
