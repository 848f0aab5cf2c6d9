namespace IntervalNotifier.Tests.TwoPass;

/// <summary>
/// docs/contract.md §6: a two-pass invalidator is a single-pass one too — its
/// <see cref="IIntervalInvalidator.Invalidate"/> runs both passes back to back without the
/// subscriber writing it.
/// </summary>
public sealed class SinglePassFormTests
{
    /// <summary>Implements only the two passes, records what ran, and returns a pooled record (or not).</summary>
    private sealed class StartAndFinishOnly(FinishRecordPool<FinishRecord>? pool) : ITwoPassIntervalInvalidator
    {
        public List<string> Log { get; } = [];

        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            subscription.SetSequence(currentSequence);
            Log.Add("start");
            finish = pool is not null && pool.TryRent(out FinishRecord? r) ? r : null;
            return Result;
        }

        public bool Result { get; set; } = true;

        public void InvalidateFinish(FinishRecord finish)
        {
            Log.Add($"finish {finish.Subscription}");
            if (Throws)
            {
                throw new FormatException("finish failed");
            }
        }

        public bool Throws { get; set; }
    }

    /// <summary>A single-pass subscriber that delegates to a two-pass one through its single-pass form.</summary>
    private sealed class Delegating(IIntervalInvalidator inner) : IIntervalInvalidator
    {
        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence) =>
            inner.Invalidate(subscription, in range, currentSequence);
    }

    [Fact]
    public void DefaultInvalidate_RunsStartThenFinish_AndReturnsThePooledRecord()
    {
        var pool = new FinishRecordPool<FinishRecord>(1);
        var device = new StartAndFinishOnly(pool);
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new Delegating(device));
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(["start", $"finish {s}"], device.Log);
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public void DefaultInvalidate_WithoutARecord_RunsOnlyTheStart()
    {
        var device = new StartAndFinishOnly(pool: null);
        using var space = new AddressSpace();
        space.Subscribe(0, 10, new Delegating(device));
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(["start"], device.Log);
    }

    [Fact]
    public void DefaultInvalidate_WhenTheFinishThrows_StillReturnsTheRecord()
    {
        var pool = new FinishRecordPool<FinishRecord>(1);
        var device = new StartAndFinishOnly(pool) { Throws = true };
        using var space = new AddressSpace();
        space.Subscribe(0, 10, new Delegating(device));
        Assert.Equal("finish failed", Assert.Throws<FormatException>(() => space.BeginInvalidation(new InvalidationRange(0, 10))).Message);
        Assert.Equal(0, pool.Rented);
        device.Throws = false; // for the teardown
    }

    [Fact]
    public void DefaultInvalidate_ARecordReturnedWithFalse_GoesBackUnfinished_AndThrows()
    {
        var pool = new FinishRecordPool<FinishRecord>(1);
        var device = new StartAndFinishOnly(pool) { Result = false };
        using var space = new AddressSpace();
        space.Subscribe(0, 10, new Delegating(device));
        Assert.Throws<InvalidOperationException>(() => space.BeginInvalidation(new InvalidationRange(0, 10)));
        Assert.Equal(["start"], device.Log);
        Assert.Equal(0, pool.Rented);
        device.Result = true; // for the teardown
    }
}
