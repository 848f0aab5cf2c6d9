namespace IntervalNotifier.Tests.Allocation;

[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;

/// <summary>
/// Warm invalidations allocate nothing. Run alone: a metrics listener of a parallel test would
/// allocate on this thread inside the instruments' callbacks.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class AllocationTests(ITestOutputHelper output)
{
    private sealed class SetSequenceOnly : IIntervalInvalidator
    {
        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
        {
            subscription.SetSequence(currentSequence);
            return true;
        }
    }

    private sealed class PooledTwoPass(FinishRecordPool<FinishRecord> pool) : ITwoPassIntervalInvalidator
    {
        public int Finishes;

        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence) => true;

        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            subscription.SetSequence(currentSequence);
            finish = pool.TryRent(out FinishRecord? r) ? r : null;
            return true;
        }

        public void InvalidateFinish(FinishRecord finish) => Finishes++;
    }

    private long Measure(AddressSpace space, InvalidationRange range, int rounds)
    {
        for (int i = 0; i < 10; i++)
        {
            space.BeginInvalidation(range).Dispose(); // warm: brackets, JIT, tiering
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < rounds; i++)
        {
            space.BeginInvalidation(range).Dispose();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{allocated} bytes over {rounds} invalidations of {range}");
        return allocated;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(16)]
    public void WarmSinglePassInvalidation_HittingK_AllocatesNothing(int k)
    {
        using var space = new AddressSpace();
        var inv = new SetSequenceOnly();
        for (int i = 0; i < 1000; i++)
        {
            space.Subscribe((ulong)i * 100, 50, inv);
        }

        var range = k == 0 ? new InvalidationRange(60, 90) : new InvalidationRange(0, (ulong)(k - 1) * 100 + 1);
        Assert.Equal(0, Measure(space, range, 1000));
    }

    [Fact]
    public void WarmTwoPassInvalidation_WithPooledRecords_AllocatesNothing()
    {
        using var space = new AddressSpace();
        var pool = new FinishRecordPool<FinishRecord>(32);
        var device = new PooledTwoPass(pool);
        for (int i = 0; i < 16; i++)
        {
            space.Subscribe(0, 4096, device);
        }

        Assert.Equal(0, Measure(space, new InvalidationRange(0, 4096), 1000));
        Assert.Equal(16 * 1010, device.Finishes);
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public void WarmReadSide_AllocatesNothing()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new SetSequenceOnly());
        long before = GC.GetAllocatedBytesForCurrentThread();
        int retries = 0;
        for (int i = 0; i < 1000; i++)
        {
            ulong seq = s.ReadBegin();
            retries += s.ReadRetry(seq) ? 1 : 0;
            ValueTask<ulong> async = s.ReadBeginAsync(TestContext.Current.CancellationToken);
            Assert.True(async.IsCompletedSuccessfully);
            retries += s.CheckRetry(seq) ? 1 : 0;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(0, retries);
    }
}
