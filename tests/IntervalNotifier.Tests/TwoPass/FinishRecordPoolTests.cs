namespace IntervalNotifier.Tests.TwoPass;

/// <summary>docs/contract.md §6, allocation and fallback: the bounded pool and fault injection.</summary>
public sealed class FinishRecordPoolTests(ITestOutputHelper output)
{
    [Fact]
    public void Constructor_CapacityBelowOne_Throws()
    {
        Assert.Equal("capacity", Assert.Throws<ArgumentOutOfRangeException>(() => new FinishRecordPool<DeviceRecord>(0)).ParamName);
    }

    [Fact]
    public void TryRent_FailsOnceCapacityRecordsAreOut_AndSucceedsAfterAReturn()
    {
        var pool = new FinishRecordPool<DeviceRecord>(3);
        Assert.Equal(3, pool.Capacity);
        var rented = new List<DeviceRecord>();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(pool.TryRent(out DeviceRecord? r));
            Assert.True(r.IsRented);
            rented.Add(r);
        }

        Assert.Equal(3, rented.Distinct().Count());
        Assert.Equal(3, pool.Rented);
        Assert.False(pool.TryRent(out DeviceRecord? none));
        Assert.Null(none);
        Assert.Equal(1, pool.Failures);
        Assert.Equal(3, pool.Rented);

        pool.Return(rented[1]);
        Assert.False(rented[1].IsRented);
        Assert.Equal(2, pool.Rented);
        Assert.True(pool.TryRent(out DeviceRecord? again));
        Assert.Same(rented[1], again); // pre-warmed records are reused, none created
    }

    [Fact]
    public void Return_ResetsTheRecord_AndRejectsRecordsItDidNotRent()
    {
        var pool = new FinishRecordPool<DeviceRecord>(2);
        var other = new FinishRecordPool<DeviceRecord>(2);
        Assert.True(pool.TryRent(out DeviceRecord? r));
        r.Range = new InvalidationRange(1, 2);
        int resets = r.Resets;
        pool.Return(r);
        Assert.Equal(resets + 1, r.Resets);
        Assert.Equal(default, r.Range);

        Assert.Throws<InvalidOperationException>(() => pool.Return(r)); // twice
        Assert.Throws<InvalidOperationException>(() => pool.Return(new DeviceRecord())); // never rented
        Assert.True(other.TryRent(out DeviceRecord? foreign));
        Assert.Throws<InvalidOperationException>(() => pool.Return(foreign)); // another pool's
        Assert.Equal(0, pool.Rented);
        Assert.Equal(1, other.Rented);
        Assert.Throws<ArgumentNullException>(() => pool.Return(null!));
    }

    [Fact]
    public void Always_FailsEveryTake()
    {
        var pool = new FinishRecordPool<DeviceRecord>(4, AllocationFaults.Always);
        for (int i = 0; i < 10; i++)
        {
            Assert.False(pool.TryRent(out _));
        }

        Assert.Equal(10, pool.Failures);
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public void EveryNth_FailsTakesNTwoNThreeN()
    {
        var pool = new FinishRecordPool<DeviceRecord>(100, AllocationFaults.EveryNth(3));
        bool[] outcomes = [.. Enumerable.Range(1, 9).Select(i => pool.TryRent(out DeviceRecord? _))];
        Assert.Equal([true, true, false, true, true, false, true, true, false], outcomes);
        Assert.Equal(3, pool.Failures);

        var one = new FinishRecordPool<DeviceRecord>(100, AllocationFaults.EveryNth(1));
        Assert.False(one.TryRent(out _));
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => AllocationFaults.EveryNth(0)).ParamName);
    }

    [Fact]
    public void None_FailsNothing_ButCapacityStillBounds()
    {
        var pool = new FinishRecordPool<DeviceRecord>(2, AllocationFaults.None);
        Assert.True(pool.TryRent(out _));
        Assert.True(pool.TryRent(out _));
        Assert.False(pool.TryRent(out _));
    }

    [Fact]
    public void Random_IsDeterministicForASeed_AndNearItsProbability()
    {
        static bool[] Run(double p, int seed)
        {
            var pool = new FinishRecordPool<DeviceRecord>(1, AllocationFaults.Random(p, seed));
            var outcomes = new bool[10_000];
            for (int i = 0; i < outcomes.Length; i++)
            {
                outcomes[i] = pool.TryRent(out DeviceRecord? r);
                if (r is not null)
                {
                    pool.Return(r);
                }
            }

            return outcomes;
        }

        Assert.Equal(Run(0.3, 42), Run(0.3, 42));
        Assert.NotEqual(Run(0.3, 42), Run(0.3, 43));
        double failRate = Run(0.3, 42).Count(ok => !ok) / 10_000.0;
        Assert.InRange(failRate, 0.27, 0.33);
        Assert.All(Run(0.0, 1), Assert.True);
        Assert.All(Run(1.0, 1), Assert.False);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.1)]
    [InlineData(double.NaN)]
    public void Random_ProbabilityOutsideZeroToOne_Throws(double p)
    {
        Assert.Equal("probability", Assert.Throws<ArgumentOutOfRangeException>(() => AllocationFaults.Random(p, 1)).ParamName);
    }

    [Fact]
    public void RentAndReturn_SteadyState_AllocatesNothing()
    {
        var pool = new FinishRecordPool<DeviceRecord>(4);
        for (int i = 0; i < 10; i++)
        {
            pool.TryRent(out DeviceRecord? warm);
            pool.Return(warm!);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            pool.TryRent(out DeviceRecord? a);
            pool.TryRent(out DeviceRecord? b);
            pool.Return(b!);
            pool.Return(a!);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void ManyThreads_RentMarkCheckReturn_NoRecordIsEverHeldByTwo(int seed)
    {
        // As aspnetcore's ObjectPool threading test: threads rent, mark, check and return for a
        // bounded time; a record held by two threads at once would see another's mark.
        const int Threads = 4;
        var pool = new FinishRecordPool<DeviceRecord>(3, AllocationFaults.Random(0.1, seed));
        var stop = DateTime.UtcNow + Waiting.Stress(TimeSpan.FromMilliseconds(500));
        var errors = new List<string>();
        int rents = 0;
        Task[] workers = [.. Enumerable.Range(1, Threads).Select(id => Waiting.OnThread(() =>
        {
            var random = new Random(seed * 31 + id);
            while (DateTime.UtcNow < stop)
            {
                if (!pool.TryRent(out DeviceRecord? r))
                {
                    continue;
                }

                Interlocked.Increment(ref rents);
                if (Interlocked.CompareExchange(ref r.Owner, id, 0) != 0)
                {
                    lock (errors)
                    {
                        errors.Add($"record rented while held by {r.Owner}");
                    }
                }

                if (random.Next(4) == 0)
                {
                    Thread.Yield();
                }

                if (Interlocked.CompareExchange(ref r.Owner, 0, id) != id)
                {
                    lock (errors)
                    {
                        errors.Add("record's mark changed while held");
                    }
                }

                pool.Return(r);
            }
        }))];

        Assert.True(Waiting.AllComplete(workers), $"timed out (seed {seed})");
        if (errors.Count > 0)
        {
            output.WriteLine($"seed = {seed}");
        }

        Assert.Empty(errors);
        Assert.Equal(0, pool.Rented);
        Assert.True(rents > 0);
    }

    private sealed class FailingReset : FinishRecord
    {
        public override bool TryReset() => throw new FormatException("reset failed");
    }

    private sealed class OneRecordDevice(FinishRecordPool<FailingReset> pool) : ITwoPassIntervalInvalidator
    {
        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence) => true;

        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            finish = range.Event != InvalidationEvent.Release && pool.TryRent(out FailingReset? r) ? r : null;
            return true;
        }

        public void InvalidateFinish(FinishRecord finish)
        {
        }
    }

    [Fact]
    public void AResetHookThatThrows_StillGetsTheRecordBack_AndTheInvalidatorHearsOfIt()
    {
        var pool = new FinishRecordPool<FailingReset>(1);
        using var space = new AddressSpace();
        space.Subscribe(0, 10, new OneRecordDevice(pool));
        Assert.Equal("reset failed", Assert.Throws<FormatException>(() => space.BeginInvalidation(new InvalidationRange(0, 10))).Message);
        Assert.Equal(0, pool.Rented);
        Assert.True(pool.TryRent(out FailingReset? again));
        Assert.Null(again.Subscription);
        Assert.Equal(0, space.ActiveInvalidations);
    }

    [Fact]
    public void CoreReturn_OfARecordThePoolDidNotRent_Throws()
    {
        IFinishRecordPool pool = new FinishRecordPool<FinishRecord>(1);
        var record = new FinishRecord();
        Assert.Equal(0, record.ClaimHold(FinishRecord.ReturnHold)); // the core returns only records it holds
        Assert.Throws<InvalidOperationException>(() => pool.ReturnFromCore(record, callingThread: null));
    }

    [Fact]
    public void Faults_DescribeThemselves_AndNoneNeverFails()
    {
        Assert.Equal("None", AllocationFaults.None.ToString());
        Assert.Equal("Always", AllocationFaults.Always.ToString());
        Assert.Equal("EveryNth(3)", AllocationFaults.EveryNth(3).ToString());
        Assert.Equal("Random(0.25, 7)", AllocationFaults.Random(0.25, 7).ToString());
        Assert.False(AllocationFaults.None.ShouldFail());
        Assert.True(AllocationFaults.Always.ShouldFail());
    }

    [Fact]
    public void Random_ASeedGivesTheSameOutcomesInEveryVersion()
    {
        // Pinned: a recorded failure pattern must replay after upgrades, not only within a run.
        AllocationFaults faults = AllocationFaults.Random(0.5, 42);
        string pattern = string.Concat(Enumerable.Range(0, 32).Select(_ => faults.ShouldFail() ? 'x' : '.'));
        Assert.Equal(GoldenPattern, pattern);
    }

    private const string GoldenPattern = ".xx.xx.x..xxx...x.x...x.........";
}
