using System.Diagnostics.Metrics;
using IntervalNotifier.Diagnostics;

namespace IntervalNotifier.Tests.TwoPass;

/// <summary>
/// docs/contract.md §6 (allocation and fallback): the pool's per-thread caches in front of its
/// shared pool, its factory, the reset convention, and its instruments.
/// </summary>
public sealed class PoolCacheTests
{
    private sealed class NeedsArguments(string device) : FinishRecord
    {
        public string Device { get; } = device;
    }

    private sealed class OneShot : FinishRecord
    {
        public bool Used;

        public override bool TryReset() => !Used; // a used record cannot be reset: the pool drops it
    }

    [Fact]
    public void FactoryConstructor_MakesCapacityRecords_WithConstructorArguments()
    {
        int made = 0;
        var pool = new FinishRecordPool<NeedsArguments>(3, () => new NeedsArguments($"gpu{made++}"));
        Assert.Equal(3, made);
        Assert.True(pool.TryRent(out NeedsArguments? r));
        Assert.StartsWith("gpu", r.Device, StringComparison.Ordinal);
        pool.Return(r);
        Assert.Equal(3, made); // none made after the pre-warm
        Assert.Throws<ArgumentNullException>(() => new FinishRecordPool<NeedsArguments>(1, (Func<NeedsArguments>)null!));
        Assert.Throws<InvalidOperationException>(() => new FinishRecordPool<NeedsArguments>(1, () => null!));
    }

    [Fact]
    public void ParameterlessConstructor_OfARecordTypeWithoutOne_ThrowsNamingTheFactoryOverload()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new FinishRecordPool<NeedsArguments>(2));
        Assert.Contains("factory", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryReset_ReturningFalse_DropsTheRecord_AndTheBoundStays()
    {
        var pool = new FinishRecordPool<OneShot>(1);
        Assert.True(pool.TryRent(out OneShot? first));
        first.Used = true;
        pool.Return(first);
        Assert.Equal(0, pool.Rented);
        Assert.True(pool.TryRent(out OneShot? second));
        Assert.NotSame(first, second); // a new record in its place
        Assert.False(pool.TryRent(out _)); // still one at most
        pool.Return(second);
    }

    [Fact]
    public void SteadyState_OnOneThread_RentsAndReturnsThroughItsCache_WithoutTouchingTheSharedPool()
    {
        var pool = new FinishRecordPool<DeviceRecord>(8);
        var rented = new DeviceRecord[8];
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < 8; i++)
            {
                Assert.True(pool.TryRent(out DeviceRecord? r));
                rented[i] = r;
            }

            Assert.False(pool.TryRent(out _)); // the bound: eight at most
            foreach (DeviceRecord r in rented)
            {
                pool.Return(r);
            }

            Assert.Equal(0, pool.Rented);
            Assert.Equal(0, pool.SharedAvailable); // all eight now wait in this thread's cache
        }
    }

    // A thread's cache holds at most MaxCacheSize records (fewer for a smaller pool): what a
    // thread returns beyond that goes back to the shared part, for other threads.
    [Fact]
    [Trait("Found", "mutation testing")]
    public void AThreadsCache_HoldsAtMostMaxCacheSizeRecords_TheRestGoToTheSharedPart()
    {
        const int Extra = 44;
        var pool = new FinishRecordPool<DeviceRecord>(FinishRecordPool<DeviceRecord>.MaxCacheSize + Extra);
        List<DeviceRecord> all = RentAll(pool);

        Assert.Equal(pool.Capacity, all.Count);
        all.ForEach(pool.Return);
        Assert.Equal(0, pool.Rented);
        Assert.Equal(Extra, pool.SharedAvailable);
    }

    [Fact]
    public void RecordsCachedByAThreadThatEnded_AreReclaimedByAnotherThread()
    {
        var pool = new FinishRecordPool<DeviceRecord>(4);
        Waiting.Completes(Waiting.OnThread(() =>
        {
            List<DeviceRecord> mine = RentAll(pool);

            mine.ForEach(pool.Return); // into that thread's cache
            return mine.Count;
        }), "the other thread");

        Waiting.Until(() => pool.SharedAvailable == 0, "the records are in the ended thread's cache");
        var here = new List<DeviceRecord>();
        Waiting.Until(() =>
        {
            while (pool.TryRent(out DeviceRecord? r))
            {
                here.Add(r);
            }

            return here.Count == 4;
        }, "all four records are rented here");
        here.ForEach(pool.Return);
        Assert.Equal(0, pool.Rented);
    }

    // Asynchronous finishes complete on thread-pool threads, which return records they never
    // rented: such a return goes to the pool's stack of returned records, and the thread gets no cache.
    [Fact]
    public void AReturnOnAThreadThatNeverRented_MakesNoCache_AndRentedStaysExact()
    {
        int made = 0;
        var pool = new FinishRecordPool<DeviceRecord>(4, () =>
        {
            made++;
            return new DeviceRecord();
        });
        Assert.True(pool.TryRent(out DeviceRecord? record));
        Assert.Equal(1, pool.CacheCount);
        var returner = new Thread(() => pool.Return(record));
        returner.Start();
        returner.Join();

        Assert.Equal(1, pool.CacheCount);
        Assert.Equal(0, pool.Rented);
        List<DeviceRecord> all = RentAll(pool);

        Assert.Equal(4, all.Count); // the record returned elsewhere is rentable again
        Assert.Contains(record, all); // itself, not one made in its place
        Assert.Equal(4, made);
        Assert.Equal(4, pool.Rented);
        all.ForEach(pool.Return);
        Assert.Equal(0, pool.Rented);
    }

    // Returns on another thread go to the pool's stack of returned records, not to the shared
    // part: the renter's next rent moves the whole stack into its own cache at once.
    [Fact]
    public void ReturnsOnAnotherThread_ComeBackToTheRentersCache_WithoutTheSharedPool()
    {
        var pool = new FinishRecordPool<DeviceRecord>(8);
        List<DeviceRecord> rented = RentAll(pool);

        ReturnOnAnotherThread(pool, rented);

        Assert.Equal(0, pool.Rented);
        Assert.Equal(0, pool.SharedAvailable); // on the stack, not in the shared part
        List<DeviceRecord> again = RentAll(pool);

        Assert.Equal(8, again.Count);
        Assert.Equal(rented.ToHashSet(), again.ToHashSet()); // the same records, each once
        again.ForEach(pool.Return);
        Assert.Equal(0, pool.SharedAvailable); // all eight in this thread's cache now
    }

    // A record on the stack stays held until a rent takes it: a second return of it (a device
    // that returns a record twice, from two threads) is refused, and the stack is not corrupted.
    [Fact]
    public void ARecordOnTheStackOfReturnedRecords_IsStillHeld_ASecondReturnIsRefused()
    {
        var pool = new FinishRecordPool<DeviceRecord>(2);
        Assert.True(pool.TryRent(out DeviceRecord? record));
        ReturnOnAnotherThread(pool, [record]);

        Assert.Throws<InvalidOperationException>(() => pool.Return(record));
        Assert.True(pool.TryRent(out DeviceRecord? a));
        Assert.True(pool.TryRent(out DeviceRecord? b));
        Assert.NotSame(a, b);
        Assert.False(pool.TryRent(out _));
        pool.Return(a);
        pool.Return(b);
        Assert.Equal(0, pool.Rented);
    }

    // The bound counts the stack: a thread that never rented, with its own cache and the shared
    // part empty, finds the records another thread returned there for the renter.
    [Fact]
    public void RecordsOnTheStackOfReturnedRecords_AreRentableByAnyThread()
    {
        var pool = new FinishRecordPool<DeviceRecord>(3);
        List<DeviceRecord> rented = RentAll(pool);

        ReturnOnAnotherThread(pool, rented);

        int rentedThere = Waiting.Completes(Waiting.OnThread(() =>
        {
            List<DeviceRecord> there = RentAll(pool);

            there.ForEach(pool.Return);
            return there.Count;
        }), "the third thread");

        Assert.Equal(3, rentedThere);
        Assert.Equal(0, pool.Rented);
    }

    // More records on the stack than the renter's cache holds: the rest go to the shared part.
    [Fact]
    public void AStackLargerThanACache_SpillsTheRestToTheSharedPart()
    {
        const int Extra = 20;
        var pool = new FinishRecordPool<DeviceRecord>(FinishRecordPool<DeviceRecord>.MaxCacheSize + Extra);
        List<DeviceRecord> rented = RentAll(pool);

        ReturnOnAnotherThread(pool, rented);

        Assert.True(pool.TryRent(out DeviceRecord? first)); // moves the stack: a cache's worth here, the rest shared
        Assert.Equal(Extra, pool.SharedAvailable);
        var all = new List<DeviceRecord> { first };
        while (pool.TryRent(out DeviceRecord? r))
        {
            all.Add(r);
        }

        Assert.Equal(pool.Capacity, all.Count);
        Assert.Equal(pool.Capacity, all.Distinct().Count());
        all.ForEach(pool.Return);
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public void TheEmptiedCacheOfAThreadThatEnded_IsDropped_AndWhatItRentedStillCounts()
    {
        var pool = new FinishRecordPool<DeviceRecord>(4); // refills one record at a time
        DeviceRecord? kept = null;
        var renter = new Thread(() => Assert.True(pool.TryRent(out kept)));
        renter.Start();
        renter.Join(); // its cache is empty now, and it has ended

        Assert.True(pool.TryRent(out DeviceRecord? here)); // this thread's first rent drops the ended cache
        Assert.Equal(1, pool.CacheCount);
        Assert.Equal(2, pool.Rented);
        pool.Return(kept!);
        pool.Return(here);
        Assert.Equal(0, pool.Rented);
        Assert.Equal(1, pool.CacheCount);
    }

    [Fact]
    public void AFactoryThatThrows_WhileReplacingADroppedRecord_FailsThatRent_AndLosesNoCapacity()
    {
        int made = 0;
        bool failing = false;
        var pool = new FinishRecordPool<OneShot>(2, () =>
        {
            if (failing)
            {
                throw new FormatException("no device memory");
            }

            made++;
            return new OneShot();
        });
        Assert.True(pool.TryRent(out OneShot? dropped));
        dropped.Used = true;
        pool.Return(dropped); // cannot be reset: dropped, to be made anew when needed
        Assert.True(pool.TryRent(out OneShot? b));

        failing = true;
        Assert.Throws<FormatException>(() => pool.TryRent(out _));
        Assert.Equal(1, pool.Rented);

        failing = false;
        Assert.True(pool.TryRent(out OneShot? c)); // the failed creation left its place free
        Assert.NotSame(b, c);
        Assert.NotSame(dropped, c);
        Assert.Equal(3, made);
        Assert.False(pool.TryRent(out _)); // and the bound holds
        pool.Return(b);
        pool.Return(c);
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public void RecordsCachedByABlockedThread_AreTakenByARentElsewhere_WhileItHoldsOneRecord()
    {
        var pool = new FinishRecordPool<DeviceRecord>(3);
        using var holding = new ManualResetEventSlim();
        using var returnLast = new ManualResetEventSlim();
        Task other = Waiting.OnThread(() =>
        {
            List<DeviceRecord> mine = RentAll(pool);

            pool.Return(mine[0]);
            pool.Return(mine[1]); // two free records wait in this thread's cache
            holding.Set();
            Assert.True(Waiting.For(returnLast)); // blocked: it never comes back to the pool on its own
            pool.Return(mine[2]); // a push onto its cache, emptied by the steals meanwhile
        });

        Assert.True(Waiting.For(holding));
        var here = new List<DeviceRecord>();
        for (int i = 0; i < 2; i++)
        {
            Assert.True(pool.TryRent(out DeviceRecord? r), $"rent {i}: a free record waits in the other thread's cache");
            here.Add(r);
        }

        Assert.False(pool.TryRent(out _)); // now all three are out
        Assert.Equal(3, pool.Rented);
        returnLast.Set();
        Waiting.Completes(other, "the other thread");
        Assert.True(pool.TryRent(out DeviceRecord? last)); // the one it returned, from its cache
        Assert.DoesNotContain(last, here);
        here.Add(last);
        here.ForEach(pool.Return);
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public void MorePoolsThanCacheSlots_OnOneThread_KeepEveryRecordAndCount()
    {
        FinishRecordPool<DeviceRecord>[] pools = [.. Enumerable.Range(0, 7).Select(_ => new FinishRecordPool<DeviceRecord>(2))];
        for (int round = 0; round < 5; round++)
        {
            foreach (FinishRecordPool<DeviceRecord> pool in pools)
            {
                Assert.True(pool.TryRent(out DeviceRecord? a));
                Assert.True(pool.TryRent(out DeviceRecord? b));
                Assert.False(pool.TryRent(out _));
                pool.Return(a);
                pool.Return(b);
            }
        }

        Assert.All(pools, p => Assert.Equal(0, p.Rented));
        Assert.All(pools, p => Assert.Equal(5, p.Failures));
    }

    // A thread that is not the home of its pools keeps their caches in a few slots; binding one
    // more pool spills the cache installed longest ago back to its pool's shared part.
    [Fact]
    [Trait("Found", "mutation testing")]
    public void AThreadWithMorePoolsThanSlots_SpillsItsOldestCache_ToThatPoolsSharedPart()
    {
        const int Pools = RecordCaches.SlotsPerThread + 1;
        int made = 0;
        FinishRecordPool<DeviceRecord>[] pools = [.. Enumerable.Range(0, Pools).Select(_ => new FinishRecordPool<DeviceRecord>(4, () =>
        {
            Interlocked.Increment(ref made);
            return new DeviceRecord();
        }))];
        foreach (FinishRecordPool<DeviceRecord> pool in pools)
        {
            Assert.True(pool.TryRent(out DeviceRecord? r)); // this thread is every pool's home
            pool.Return(r); // one record in the home cache, three in the shared part
        }

        Waiting.Completes(Waiting.OnThread(() =>
        {
            for (int i = 0; i < Pools; i++)
            {
                RentTwoAndReturn(pools[i]);
                Assert.Equal(1, pools[i].SharedAvailable); // two wait in this thread's cache of the pool
            }

            // The fifth pool's cache took the slot of the first's, whose records went back.
            Assert.Equal(3, pools[0].SharedAvailable);
            Assert.All(pools[1..], p => Assert.Equal(1, p.SharedAvailable));

            // The first again: its cache is installed anew, and the oldest one now is the second's.
            RentTwoAndReturn(pools[0]);
            Assert.Equal(2, pools[0].CacheCount); // this thread's old cache, found again: the home's and this one
            Assert.Equal(1, pools[0].SharedAvailable);
            Assert.Equal(3, pools[1].SharedAvailable);
            Assert.All(pools[2..], p => Assert.Equal(1, p.SharedAvailable));

            // A pool whose cache is in the slots is found there: nothing moves.
            RentTwoAndReturn(pools[3]);
            RentTwoAndReturn(pools[2]);
            Assert.Equal(1, pools[2].SharedAvailable);
            Assert.Equal(1, pools[3].SharedAvailable);
            Assert.Equal(3, pools[1].SharedAvailable);
        }), "the thread with more pools than slots");

        foreach (FinishRecordPool<DeviceRecord> pool in pools)
        {
            Assert.Equal(0, pool.Rented);
            List<DeviceRecord> all = RentAll(pool);

            Assert.Equal(4, all.Distinct().Count()); // every record is still rentable, once
            all.ForEach(pool.Return);
        }

        Assert.Equal(4 * Pools, made); // the spilled records themselves, none made anew

        static void RentTwoAndReturn(FinishRecordPool<DeviceRecord> pool)
        {
            Assert.True(pool.TryRent(out DeviceRecord? a));
            Assert.True(pool.TryRent(out DeviceRecord? b));
            pool.Return(a);
            pool.Return(b);
        }
    }

    [Fact]
    public void Instruments_ShowRecordsOutAndFailures_PerPool()
    {
        var pool = new FinishRecordPool<DeviceRecord>(2);
        var seen = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == NotifierMetrics.MeterName && instrument.Name.StartsWith("intervalnotifier.pool.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        string? mine = null;
        void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == NotifierMetrics.PoolTag && Equals(tag.Value, mine))
                {
                    seen[instrument.Name] = value;
                }
            }
        }

        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        mine = ((IPoolMetricsSource)pool).Name;
        Assert.StartsWith(nameof(DeviceRecord) + "#", mine, StringComparison.Ordinal);

        Assert.True(pool.TryRent(out DeviceRecord? r));
        Assert.True(pool.TryRent(out _));
        Assert.False(pool.TryRent(out _));
        listener.RecordObservableInstruments();
        Assert.Equal(2, seen[NotifierMetrics.PoolRecordsOut]);
        Assert.Equal(1, seen[NotifierMetrics.PoolFailures]);
        pool.Return(r);
        listener.RecordObservableInstruments();
        Assert.Equal(1, seen[NotifierMetrics.PoolRecordsOut]);
    }

    // Rents until the pool refuses: every record it will lend the calling thread.
    private static List<T> RentAll<T>(FinishRecordPool<T> pool)
        where T : FinishRecord
    {
        var rented = new List<T>();
        while (pool.TryRent(out T? r))
        {
            rented.Add(r);
        }

        return rented;
    }

    // Returns the records on a thread that did not rent them (as an asynchronous finish's continuation does).
    private static void ReturnOnAnotherThread<T>(FinishRecordPool<T> pool, List<T> records)
        where T : FinishRecord =>
        Waiting.Completes(Waiting.OnThread(() => records.ForEach(pool.Return)), "the returning thread");
}
