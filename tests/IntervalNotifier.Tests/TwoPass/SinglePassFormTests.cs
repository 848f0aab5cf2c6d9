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

    /// <summary>Returns its one embedded record from every start; its finish may run a nested single pass.</summary>
    private sealed class EmbeddedOnly : ITwoPassIntervalInvalidator
    {
        private readonly FinishRecord _record = new();

        public bool Result { get; set; } = true;

        public int Finishes { get; private set; }

        public Action? InFirstFinish { get; set; }

        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            subscription.SetSequence(currentSequence);
            finish = range.Event == InvalidationEvent.Release ? null : _record;
            return Result;
        }

        public void InvalidateFinish(FinishRecord finish)
        {
            if (++Finishes == 1)
            {
                InFirstFinish?.Invoke();
            }
        }
    }

    // An embedded record is free again before its finish runs: the finish may start a new single
    // pass that returns the same record.
    [Fact]
    [Trait("Found", "mutation testing")]
    public void DefaultInvalidate_AnEmbeddedRecord_IsFreeAgainInsideItsOwnFinish()
    {
        var device = new EmbeddedOnly();
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new Delegating(device));
        var range = new InvalidationRange(0, 10);
        device.InFirstFinish = () => ((IIntervalInvalidator)device).Invalidate(s, in range, space.Sequence);

        space.BeginInvalidation(range).Dispose();

        Assert.Equal(2, device.Finishes);
    }

    // An embedded record returned with false is not finished, the misuse throws, and the record
    // is free again afterwards: the next single pass finishes it.
    [Fact]
    [Trait("Found", "mutation testing")]
    public void DefaultInvalidate_AnEmbeddedRecordWithFalse_Throws_AndIsFreeAgainAfterwards()
    {
        var device = new EmbeddedOnly { Result = false };
        using var space = new AddressSpace();
        space.Subscribe(0, 10, new Delegating(device));

        var e = Assert.Throws<InvalidOperationException>(() => space.BeginInvalidation(new InvalidationRange(0, 10)));
        Assert.Contains("together with false", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, device.Finishes);

        device.Result = true;
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(1, device.Finishes);
    }
}
