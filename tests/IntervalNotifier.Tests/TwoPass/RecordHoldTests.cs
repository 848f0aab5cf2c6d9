namespace IntervalNotifier.Tests.TwoPass;

/// <summary>
/// docs/contract.md §6 and §8: a pooled record may be in one finish list at a time, and no return to
/// its pool — by the core rejecting a record returned with <see langword="false"/>, or by the
/// user — can unlink it from a list that holds it. Every return claims the record first.
/// </summary>
[Trait("Found", "design review")]
public sealed class RecordHoldTests
{
    /// <summary>A record whose reset (user code, run on the way back to the pool) can be made to wait.</summary>
    private sealed class GatedRecord : FinishRecord
    {
        public Action? OnReset { get; set; }

        public override bool TryReset()
        {
            Action? hook = OnReset;
            OnReset = null;
            hook?.Invoke();
            return true;
        }
    }

    /// <summary>Returns <see cref="Record"/> (or its own rented record) with a result, and runs hooks.</summary>
    private sealed class SharingDevice(FinishRecordPool<GatedRecord> pool) : ITwoPassIntervalInvalidator
    {
        public GatedRecord? Shared { get; set; }

        public bool ReturnsShared { get; set; }

        public bool Result { get; set; } = true;

        public Action? BeforeReturning { get; set; }

        public int Finishes;

        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence) => true;

        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            if (range.Event == InvalidationEvent.Release)
            {
                finish = null;
                return true;
            }

            BeforeReturning?.Invoke();
            finish = ReturnsShared ? Shared : (pool.TryRent(out GatedRecord? own) ? own : null);
            return Result;
        }

        public void InvalidateFinish(FinishRecord finish) => Interlocked.Increment(ref Finishes);
    }

    public enum Returner
    {
        CoreRejectingARecordReturnedWithFalse,
        UserCallingReturn,
    }

    // Invalidation A links the shared record R while another party is returning R to its pool
    // and is paused inside R's reset. A must not end up finishing a record that the return then
    // unlinks: whoever claims R first has it, and the other is told of the misuse.
    [Theory]
    [InlineData(Returner.CoreRejectingARecordReturnedWithFalse)]
    [InlineData(Returner.UserCallingReturn)]
    public void RecordBeingReturned_WhileAnotherInvalidationLinksIt_IsNeverFinishedOrLost(Returner returner)
    {
        using var space = new AddressSpace();
        var pool = new FinishRecordPool<GatedRecord>(4);
        Assert.True(pool.TryRent(out GatedRecord? shared));

        var first = new SharingDevice(pool) { Shared = shared, ReturnsShared = true };   // A: links R
        var second = new SharingDevice(pool);                                           // A: its own record, after R
        var rejecter = new SharingDevice(pool) { Shared = shared, ReturnsShared = true, Result = false }; // B: R with false
        space.Subscribe(0, 10, first);
        space.Subscribe(5, 10, second);
        space.Subscribe(100, 10, rejecter);

        using var inReset = new ManualResetEventSlim();
        using var aLinked = new ManualResetEventSlim();
        using var bDone = new ManualResetEventSlim();
        shared.OnReset = () =>
        {
            inReset.Set();
            Assert.True(Waiting.For(aLinked), "A never linked the record");
        };
        second.BeforeReturning = () =>
        {
            aLinked.Set();
            Assert.True(Waiting.For(bDone), "B never finished returning the record");
        };

        Task<Exception?> b = Waiting.OnThread(() => Record.Exception(() =>
        {
            try
            {
                if (returner == Returner.UserCallingReturn)
                {
                    pool.Return(shared);
                }
                else
                {
                    space.BeginInvalidation(new InvalidationRange(100, 110)).Dispose();
                }
            }
            finally
            {
                bDone.Set();
            }
        }));
        Assert.True(Waiting.For(inReset), "B never reached the record's reset");

        Exception? a = Record.Exception(() => space.BeginInvalidation(new InvalidationRange(0, 15)).Dispose());
        Exception? fromB = Waiting.Completes(b, "B");

        Assert.IsType<InvalidOperationException>(a);
        Assert.Equal(1, second.Finishes);  // the record linked after R was not lost
        Assert.Equal(0, first.Finishes);   // R was never finished
        Assert.Equal(0, pool.Rented);      // every record is back, once
        Assert.Equal(0, space.ActiveInvalidations);
        if (returner == Returner.UserCallingReturn)
        {
            Assert.Null(fromB);
        }
        else
        {
            Assert.IsType<InvalidOperationException>(fromB); // the record returned with false
        }
    }

    // A record returned on another thread waits on the pool's stack of returned records, linked
    // by the same field a finish list uses. A device that hands such a record (a stale reference)
    // to a start pass must be told, and the stack must lose nothing: the record stays held there.
    [Fact]
    public void ARecordOnThePoolsStackOfReturnedRecords_HandedToAStartPass_IsRefused_AndTheStackLosesNothing()
    {
        using var space = new AddressSpace();
        var pool = new FinishRecordPool<GatedRecord>(4);
        var rented = new List<GatedRecord>();
        while (pool.TryRent(out GatedRecord? r))
        {
            rented.Add(r);
        }

        Waiting.Completes(Waiting.OnThread(() => rented.ForEach(pool.Return)), "the returning thread");
        var stale = new SharingDevice(pool) { Shared = rented[^1], ReturnsShared = true }; // the stack's top
        space.Subscribe(0, 10, stale);

        Exception? thrown = Record.Exception(() => space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose());

        Assert.IsType<InvalidOperationException>(thrown);
        Assert.Equal(0, stale.Finishes);
        var again = new List<GatedRecord>();
        while (pool.TryRent(out GatedRecord? r))
        {
            again.Add(r);
        }

        Assert.Equal(4, again.Distinct().Count()); // every record came back from the stack, once
        again.ForEach(pool.Return);
        Assert.Equal(0, pool.Rented);
    }
}
