namespace IntervalNotifier.Benchmarks.Common;

/// <summary>A single-pass callback that does only the protocol: set the sequence.</summary>
internal sealed class SetSequenceInvalidator : IIntervalInvalidator
{
    public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
    {
        subscription.SetSequence(currentSequence);
        return true;
    }
}

/// <summary>A two-pass callback that does only the protocol: set the sequence, rent a record (the finish does nothing).</summary>
internal sealed class PooledTwoPassInvalidator(FinishRecordPool<FinishRecord> pool) : ITwoPassIntervalInvalidator
{
    public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
    {
        subscription.SetSequence(currentSequence);
        return true;
    }

    public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
    {
        subscription.SetSequence(currentSequence);
        finish = pool.TryRent(out FinishRecord? record) ? record : null;
        return true;
    }

    public void InvalidateFinish(FinishRecord finish)
    {
    }
}

/// <summary>A two-pass protocol-only callback over the baseline pool.</summary>
internal sealed class BudgetedTwoPassInvalidator(BudgetedRecordPool<FinishRecord> pool) : ITwoPassIntervalInvalidator
{
    public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
    {
        subscription.SetSequence(currentSequence);
        return true;
    }

    public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
    {
        subscription.SetSequence(currentSequence);
        finish = pool.TryRent(out FinishRecord? record) ? record : null;
        return true;
    }

    public void InvalidateFinish(FinishRecord finish)
    {
    }
}

/// <summary>A two-pass protocol-only callback with a record of its own (no pool): the two-pass path's cost without any pool.</summary>
internal sealed class EmbeddedTwoPassInvalidator : ITwoPassIntervalInvalidator
{
    // One record suffices: each invalidation has finished it (and released its hold) before the next begins.
    private readonly FinishRecord _record = new();

    public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
    {
        subscription.SetSequence(currentSequence);
        return true;
    }

    public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
    {
        subscription.SetSequence(currentSequence);
        finish = _record;
        return true;
    }

    public void InvalidateFinish(FinishRecord finish)
    {
    }
}

/// <summary>
/// A single-pass callback that also pays two compare-and-swaps on a field of its own: the floor
/// of any two-pass record path that claims a record (one CAS) and pushes it on a lock-free list
/// (another), measured on the same machine in the same run.
/// </summary>
internal sealed class TwoCasInvalidator : IIntervalInvalidator
{
    private object? _slot;

    public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
    {
        subscription.SetSequence(currentSequence);
        Interlocked.CompareExchange(ref _slot, this, null);
        Interlocked.CompareExchange(ref _slot, null, this);
        return true;
    }
}
