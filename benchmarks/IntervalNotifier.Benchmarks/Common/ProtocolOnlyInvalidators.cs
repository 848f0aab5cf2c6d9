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
