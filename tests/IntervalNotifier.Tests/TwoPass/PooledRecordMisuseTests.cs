namespace IntervalNotifier.Tests.TwoPass;

/// <summary>A pooled record reused like an embedded one: a concurrent claim must fail cleanly.</summary>
public sealed class PooledRecordMisuseTests
{
    private sealed class Reuser(FinishRecordPool<FinishRecord> pool) : ITwoPassIntervalInvalidator
    {
        public FinishRecord? Last { get; private set; }

        public Action? DuringFinish { get; set; }

        public int Finishes;

        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence) => true;

        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            // The bug: hand the core the record it is finishing elsewhere, as if it were embedded.
            finish = Last ?? (pool.TryRent(out FinishRecord? r) ? r : null);
            Last = finish;
            return true;
        }

        public void InvalidateFinish(FinishRecord finish)
        {
            Interlocked.Increment(ref Finishes);
            DuringFinish?.Invoke();
        }
    }

    [Fact]
    public void APooledRecordClaimedByAnotherInvalidationDuringItsFinish_IsRejected_WithoutCorruption()
    {
        using var space = new AddressSpace();
        var pool = new FinishRecordPool<FinishRecord>(4);
        var reuser = new Reuser(pool);
        space.Subscribe(0, 10, reuser);
        Exception? fromOther = null;
        reuser.DuringFinish = () =>
        {
            reuser.DuringFinish = null;
            fromOther = Waiting.Completes(Waiting.OnThread(() => Record.Exception(() =>
                space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose())), "the other invalidation");
        };

        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.IsType<InvalidOperationException>(fromOther);
        Assert.Contains("another invalidation", fromOther!.Message, StringComparison.Ordinal);
        Assert.Equal(1, reuser.Finishes); // finished once, by its own invalidation
        Assert.Equal(0, pool.Rented);     // back in its pool exactly once
        Assert.Equal(0, space.ActiveInvalidations);
    }

    [Fact]
    public void Return_OfARecordHandedToTheCore_FromInsideItsFinish_Throws()
    {
        using var space = new AddressSpace();
        var pool = new FinishRecordPool<FinishRecord>(4);
        var reuser = new Reuser(pool);
        space.Subscribe(0, 10, reuser);
        Exception? thrown = null;
        reuser.DuringFinish = () => thrown = Record.Exception(() => pool.Return(reuser.Last!));
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.IsType<InvalidOperationException>(thrown);
        Assert.Equal(0, pool.Rented);
    }
}
