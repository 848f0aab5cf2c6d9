using System.Runtime.CompilerServices;
using IntervalNotifier.Diagnostics;

namespace IntervalNotifier.Tests.TwoPass;

/// <summary>docs/contract.md §6: two-pass invalidation.</summary>
public sealed class TwoPassInvalidationTests
{
    private static (AddressSpace Space, TwoPassDevice[] Devices, List<string> Log) Devices(int n, FinishRecordPool<DeviceRecord> pool, AddressSpaceOptions? options = null)
    {
        var space = new AddressSpace(options);
        var log = new List<string>();
        var devices = new TwoPassDevice[n];
        for (int i = 0; i < n; i++)
        {
            devices[i] = new TwoPassDevice($"d{i}", pool, log);
            space.Subscribe((ulong)i, 100, devices[i]); // distinct starts: walk order d0, d1, …
        }

        return (space, devices, log);
    }

    private static void AssertNoViolations(IEnumerable<TwoPassDevice> devices) =>
        Assert.All(devices, d => Assert.Empty(d.Violations));

    [Fact]
    public void EveryStartPrecedesEveryFinish_EachRecordFinishedOnceInStartOrder_AndPooledRecordsAreBack()
    {
        var pool = new FinishRecordPool<DeviceRecord>(8);
        (AddressSpace space, TwoPassDevice[] devices, List<string> log) = Devices(4, pool);
        using (space)
        {
            int rentedDuringFinish = -1;
            devices[3].OnFinish = _ =>
            {
                rentedDuringFinish = pool.Rented;
                return true;
            };

            using (space.BeginInvalidation(new InvalidationRange(0, 1000)))
            {
                Assert.Equal(
                    ["start:d0", "start:d1", "start:d2", "start:d3", "finish:d0", "finish:d1", "finish:d2", "finish:d3"],
                    log);
                Assert.Equal(0, pool.Rented); // all back when begin returns
                Assert.Equal(1, rentedDuringFinish); // its own, returned right after its finish
            }

            Assert.All(devices, d => Assert.Equal((1, 1, 0, 0), (d.Starts, d.Finishes, d.Fallbacks, d.SinglePassCalls)));
            AssertNoViolations(devices);
        }
    }

    [Fact]
    public void Begin_ReturnsOnlyAfterEveryFinishHasReturned()
    {
        var pool = new FinishRecordPool<DeviceRecord>(4);
        (AddressSpace space, TwoPassDevice[] devices, _) = Devices(3, pool);
        using (space)
        {
            int finished = 0;
            foreach (TwoPassDevice d in devices)
            {
                d.OnFinish = _ =>
                {
                    Thread.Sleep(20);
                    Interlocked.Increment(ref finished);
                    return true;
                };
            }

            space.BeginInvalidation(new InvalidationRange(0, 1000)).Dispose();
            Assert.Equal(3, Volatile.Read(ref finished));
        }
    }

    [Fact]
    public void ReadersStayBlockedThroughTheFinishPass()
    {
        var pool = new FinishRecordPool<DeviceRecord>(4);
        (AddressSpace space, TwoPassDevice[] devices, _) = Devices(2, pool);
        using (space)
        {
            IntervalSubscription sub0 = space.GetSubscriptions()[0];
            Task<ulong>? reader = null;
            devices[1].OnFinish = _ =>
            {
                reader = Waiting.OnThread(sub0.ReadBegin);
                Waiting.AssertBlocked(reader, "ReadBegin during the finish pass");
                return true;
            };

            InvalidationScope scope = space.BeginInvalidation(new InvalidationRange(0, 1000));
            Waiting.AssertBlocked(reader!, "ReadBegin before the end");
            scope.Dispose();
            Waiting.Completes(reader!, "ReadBegin after the end");
        }
    }

    [Fact]
    public void NoRecord_MeansTheSubscriberDidAllItsWork_AndTheCoreCallsNothingElseForIt()
    {
        using var metrics = MetricsRecorder.ForNewSpace();
        var pool = new FinishRecordPool<DeviceRecord>(4, AllocationFaults.Always);
        (AddressSpace space, TwoPassDevice[] devices, List<string> log) = Devices(2, pool, metrics.Options);
        using (space)
        {
            space.BeginInvalidation(new InvalidationRange(0, 1000)).Dispose();
            Assert.Equal(["start:d0", "fallback:d0", "start:d1", "fallback:d1"], log);
            Assert.All(devices, d => Assert.Equal((1, 0, 1, 0), (d.Starts, d.Finishes, d.Fallbacks, d.SinglePassCalls)));
            Assert.Equal(2, metrics[NotifierMetrics.Fallbacks]);
            Assert.Equal(0, metrics[NotifierMetrics.FinishRecords]);
        }
    }

    [Fact]
    public void TheCore_NeverCallsInvalidate_OnATwoPassSubscriber()
    {
        var pool = new FinishRecordPool<DeviceRecord>(4);
        (AddressSpace space, TwoPassDevice[] devices, _) = Devices(2, pool);
        space.BeginInvalidation(new InvalidationRange(0, 1000)).Dispose();
        Assert.True(space.TryBeginInvalidation(new InvalidationRange(0, 1000), out InvalidationScope scope));
        scope.Dispose();
        space.Dispose();
        Assert.All(devices, d => Assert.Equal((3, 3, 0), (d.Starts, d.Finishes, d.SinglePassCalls)));
    }

    private sealed class EntryProbe : ITwoPassIntervalInvalidator
    {
        public List<FinishRecord?> OnEntry { get; } = [];

        public FinishRecord Record { get; } = new();

        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence) => true;

        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            // Read what the caller's variable holds on entry (C# forbids reading an out
            // parameter; SkipInit lets the callee see the caller's memory).
            Unsafe.SkipInit(out finish);
            OnEntry.Add(finish);
            finish = OnEntry.Count % 2 == 1 ? Record : null;
            return true;
        }

        public void InvalidateFinish(FinishRecord finish)
        {
        }
    }

    [Fact]
    public void Finish_HoldsNoStaleRecordOnEntry()
    {
        using var space = new AddressSpace();
        var probe = new EntryProbe();
        space.Subscribe(0, 10, probe);
        space.Subscribe(0, 10, probe);
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(4, probe.OnEntry.Count);
        Assert.All(probe.OnEntry, Assert.Null);
    }

    [Fact]
    public void TheCore_SetsTheRecordsSubscription()
    {
        var pool = new FinishRecordPool<DeviceRecord>(4);
        (AddressSpace space, TwoPassDevice[] devices, _) = Devices(2, pool);
        using (space)
        {
            var seen = new List<IntervalSubscription?>();
            foreach (TwoPassDevice d in devices)
            {
                d.OnFinish = r =>
                {
                    seen.Add(r.Subscription);
                    return true;
                };
            }

            space.BeginInvalidation(new InvalidationRange(0, 1000)).Dispose();
            Assert.Equal(space.GetSubscriptions(), seen);
        }
    }

    [Fact]
    public void AlwaysFailingPool_EveryDeviceFallsBack()
    {
        var pool = new FinishRecordPool<DeviceRecord>(8, AllocationFaults.Always);
        (AddressSpace space, TwoPassDevice[] devices, _) = Devices(5, pool);
        using (space)
        {
            space.BeginInvalidation(new InvalidationRange(0, 1000)).Dispose();
            Assert.Equal(0, devices.Sum(d => d.Finishes));
            Assert.Equal(5, devices.Sum(d => d.Fallbacks));
            Assert.Equal(5, pool.Failures);
        }
    }

    [Fact]
    public void EveryThirdTakeFailing_GivesExactCounts()
    {
        var pool = new FinishRecordPool<DeviceRecord>(16, AllocationFaults.EveryNth(3));
        (AddressSpace space, TwoPassDevice[] devices, _) = Devices(5, pool);
        using (space)
        {
            space.BeginInvalidation(new InvalidationRange(0, 1000)).Dispose(); // takes 1..5: 3 fails
            space.BeginInvalidation(new InvalidationRange(0, 1000)).Dispose(); // takes 6..10: 6, 9 fail
            Assert.Equal([1, 0, 1, 1, 0], devices.Select(d => d.Fallbacks)); // d2 (take 3), d0 (6), d3 (9)
            Assert.Equal(7, devices.Sum(d => d.Finishes));
            Assert.Equal(3, devices.Sum(d => d.Fallbacks));
            Assert.Equal(3, pool.Failures);
            Assert.Equal(0, pool.Rented);
        }
    }

    [Fact]
    public void PoolOfTwo_WithFiveDevices_TwoFinishAndThreeFallBack()
    {
        var pool = new FinishRecordPool<DeviceRecord>(2);
        (AddressSpace space, TwoPassDevice[] devices, List<string> log) = Devices(5, pool);
        using (space)
        {
            space.BeginInvalidation(new InvalidationRange(0, 1000)).Dispose();
            Assert.Equal([0, 0, 1, 1, 1], devices.Select(d => d.Fallbacks));
            Assert.Equal([1, 1, 0, 0, 0], devices.Select(d => d.Finishes));
            Assert.Equal(3, pool.Failures);
            Assert.Equal(0, pool.Rented);
            Assert.Equal(["finish:d0", "finish:d1"], log.Where(l => l.StartsWith("finish", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public void ThrowingFinish_TheOthersStillFinish_RecordsGoBack_AndTheSpaceStaysUsable()
    {
        var pool = new FinishRecordPool<DeviceRecord>(8);
        (AddressSpace space, TwoPassDevice[] devices, _) = Devices(4, pool);
        using (space)
        {
            devices[1].OnFinish = _ => false; // throws
            Exception e = Assert.Throws<InvalidOperationException>(() => space.BeginInvalidation(new InvalidationRange(0, 1000)));
            Assert.Contains("d1", e.Message, StringComparison.Ordinal);
            Assert.Equal([1, 1, 1, 1], devices.Select(d => d.Finishes));
            Assert.Equal(0, pool.Rented);
            Assert.Equal(0, space.ActiveInvalidations);
            Assert.Equal(0UL, space.Sequence & 1);

            devices[1].OnFinish = null;
            space.BeginInvalidation(new InvalidationRange(0, 1000)).Dispose();
            Assert.All(devices, d => Assert.Equal(2, d.Finishes));
            AssertNoViolations(devices);
        }
    }

    [Fact]
    public void OneFinishPass_AThrowingFinishThenAThrowingReset_EveryRecordIsFinishedAndBack_OnlyTheFinishCountsAsACallbackException()
    {
        // The finish pass has one protected region for all its records: after a finish call
        // throws (its record must still go back) and after a pool's reset throws (its record is
        // back already), the pass resumes with the next record, in start order.
        using var metrics = MetricsRecorder.ForNewSpace();
        using var space = new AddressSpace(metrics.Options);
        var log = new List<string>();
        var pool = new FinishRecordPool<DeviceRecord>(4);
        var resetFails = new FinishRecordPool<ThrowingResetRecord>(2);
        var first = new TwoPassDevice("d0", pool, log) { OnFinish = _ => false }; // its finish throws
        var second = new ResetFailingDevice(resetFails, log);
        var third = new TwoPassDevice("d2", pool, log);
        space.Subscribe(0, 100, first);
        space.Subscribe(1, 100, second);
        space.Subscribe(2, 100, third);

        var e = Assert.Throws<AggregateException>(() => space.BeginInvalidation(new InvalidationRange(0, 1000)));

        Assert.Collection(e.InnerExceptions, x => Assert.Contains("d0", x.Message, StringComparison.Ordinal), x => Assert.IsType<FormatException>(x));
        Assert.Equal(["finish:d0", "finish:reset", "finish:d2"], log.Where(l => l.StartsWith("finish", StringComparison.Ordinal)));
        Assert.Equal([1, 1], new[] { first.Finishes, third.Finishes });
        Assert.Equal(0, pool.Rented);
        Assert.Equal(0, resetFails.Rented);
        Assert.Equal(1, metrics[NotifierMetrics.CallbackExceptions]);
        Assert.Equal(3, metrics[NotifierMetrics.FinishRecords]);
        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(0UL, space.Sequence & 1);
        first.OnFinish = null; // the release at Dispose finishes d0 again
    }

    private sealed class ThrowingResetRecord : FinishRecord
    {
        public override bool TryReset() => throw new FormatException("the record's reset failed");
    }

    private sealed class ResetFailingDevice(FinishRecordPool<ThrowingResetRecord> pool, List<string> log) : ITwoPassIntervalInvalidator
    {
        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence) => true;

        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            subscription.SetSequence(currentSequence);
            finish = range.Event != InvalidationEvent.Release && pool.TryRent(out ThrowingResetRecord? r) ? r : null;
            return true;
        }

        public void InvalidateFinish(FinishRecord finish) => log.Add("finish:reset");
    }

    [Fact]
    public void ThrowingStart_LosesNoOtherFinishAndNoRecord()
    {
        var pool = new FinishRecordPool<DeviceRecord>(8);
        (AddressSpace space, TwoPassDevice[] devices, _) = Devices(3, pool);
        using (space)
        {
            devices[1].OnStart = r => r.Event == InvalidationEvent.Release ? true : throw new FormatException();
            Assert.Throws<FormatException>(() => space.BeginInvalidation(new InvalidationRange(0, 1000)));
            Assert.Equal([1, 0, 1], devices.Select(d => d.Finishes));
            Assert.Equal(0, pool.Rented);
            Assert.Equal(0, space.ActiveInvalidations);
        }
    }

    [Fact]
    public void SeveralFailures_InBothPasses_ArriveTogether()
    {
        var pool = new FinishRecordPool<DeviceRecord>(8);
        (AddressSpace space, TwoPassDevice[] devices, _) = Devices(3, pool);
        using (space)
        {
            devices[0].OnStart = r => r.Event == InvalidationEvent.Release ? true : throw new FormatException();
            devices[2].OnFinish = r => r.Range.Event == InvalidationEvent.Release;
            var e = Assert.Throws<AggregateException>(() => space.BeginInvalidation(new InvalidationRange(0, 1000)));
            Assert.Collection(e.InnerExceptions, x => Assert.IsType<FormatException>(x), x => Assert.IsType<InvalidOperationException>(x));
            Assert.Equal(0, pool.Rented);
        }
    }

    [Fact]
    public void NonBlockableFailure_PartWayThroughTheWalk_FinishesCollectedRecords_AndStartsNoLaterSubscriber()
    {
        var pool = new FinishRecordPool<DeviceRecord>(8);
        (AddressSpace space, TwoPassDevice[] devices, List<string> log) = Devices(4, pool);
        using (space)
        {
            devices[2].OnStart = r => r.Blockable; // refuses to wait in a non-blockable context

            Assert.False(space.TryBeginInvalidation(new InvalidationRange(0, 1000), out _));
            Assert.Equal(["start:d0", "start:d1", "start:d2", "finish:d0", "finish:d1"], log);
            Assert.Equal(0, devices[3].Starts);
            Assert.Equal(0, pool.Rented);
            Assert.Equal(0, space.ActiveInvalidations);
            AssertNoViolations(devices);
        }
    }

    [Fact]
    public void Teardown_RunsBothPasses()
    {
        var pool = new FinishRecordPool<DeviceRecord>(8);
        (AddressSpace space, TwoPassDevice[] devices, List<string> log) = Devices(2, pool);
        space.Dispose();
        Assert.Equal(["start:d0", "start:d1", "finish:d0", "finish:d1"], log);
        Assert.Equal(0, pool.Rented);
    }

    private sealed class MisusingDevice(Func<int, (bool Result, FinishRecord? Record)> start) : ITwoPassIntervalInvalidator
    {
        private int _calls;

        public int Finishes { get; private set; }

        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence) => true;

        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            if (range.Event == InvalidationEvent.Release)
            {
                finish = null;
                return true;
            }

            (bool result, finish) = start(_calls++);
            return result;
        }

        public void InvalidateFinish(FinishRecord finish) => Finishes++;
    }

    [Fact]
    public void RecordReturnedWithFalse_GoesBackToItsPoolUnfinished_IsCounted_AndBeginThrowsAfterCleanup()
    {
        using var metrics = MetricsRecorder.ForNewSpace();
        using var space = new AddressSpace(metrics.Options);
        var pool = new FinishRecordPool<DeviceRecord>(2);
        var device = new MisusingDevice(_ => (false, pool.TryRent(out DeviceRecord? r) ? r : null));
        var after = new RecordingInvalidator();
        space.Subscribe(0, 10, device);
        space.Subscribe(5, 10, after);

        Assert.Throws<InvalidOperationException>(() => space.TryBeginInvalidation(new InvalidationRange(0, 100), out _));
        Assert.Equal(0, device.Finishes);
        Assert.Equal(0, pool.Rented);
        Assert.Equal(0, after.Count); // the walk stopped at the refusal
        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(1, metrics[NotifierMetrics.RecordMisuses]);

        // Blockable: the refusal is a bug too; the walk goes on, and begin still throws.
        Assert.Throws<InvalidOperationException>(() => space.BeginInvalidation(new InvalidationRange(0, 100)));
        Assert.Equal(1, after.Count);
        Assert.Equal(0, pool.Rented);
        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(2, metrics[NotifierMetrics.RecordMisuses]);
    }

    [Fact]
    public void SameRecordReturnedTwiceInOneWalk_IsRejected_WithoutCorruptingTheList()
    {
        using var metrics = MetricsRecorder.ForNewSpace();
        using var space = new AddressSpace(metrics.Options);
        var shared = new FinishRecord();
        var first = new MisusingDevice(_ => (true, shared));
        var second = new MisusingDevice(_ => (true, shared));
        space.Subscribe(0, 10, first);
        space.Subscribe(5, 10, second);

        var e = Assert.Throws<InvalidOperationException>(() => space.BeginInvalidation(new InvalidationRange(0, 100)));
        Assert.Contains("twice", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, first.Finishes);
        Assert.Equal(0, second.Finishes);
        Assert.Same(space.GetSubscriptions()[0], shared.Subscription);
        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(1, metrics[NotifierMetrics.RecordMisuses]);

        // The record is free again: a walk without the misuse may use it.
        space.GetSubscriptions()[1].Unsubscribe();
        space.BeginInvalidation(new InvalidationRange(0, 100)).Dispose();
        Assert.Equal(2, first.Finishes);
    }

    [Fact]
    public void RecordStillLinkedInAnotherInvalidationsList_IsRejected_AndThatListIsIntact()
    {
        using var space = new AddressSpace();
        var shared = new FinishRecord();
        var inSecondStart = new ManualResetEventSlim();
        var proceed = new ManualResetEventSlim();
        var holder = new MisusingDevice(_ => (true, shared));
        var blocker = new MisusingDevice(_ =>
        {
            inSecondStart.Set();
            Waiting.For(proceed);
            return (true, null);
        });
        space.Subscribe(0, 10, holder);   // thread A: pushes `shared`…
        space.Subscribe(10, 10, blocker); // …then blocks here, with `shared` in its list

        Task a = Waiting.OnThread(() => space.BeginInvalidation(new InvalidationRange(0, 20)).Dispose());
        Assert.True(Waiting.For(inSecondStart));

        // Thread B's walk hits `holder` again, whose start returns `shared` while A's list holds it.
        Exception? e = Waiting.Completes(Waiting.OnThread(() => Record.Exception(() =>
            space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose())), "B");
        proceed.Set();
        Waiting.Completes(a, "A");

        Assert.IsType<InvalidOperationException>(e);
        Assert.Contains("another invalidation", e!.Message, StringComparison.Ordinal);
        Assert.Equal(1, holder.Finishes); // A finished it exactly once; B did not
        Assert.Equal(0, space.ActiveInvalidations);
    }

    private sealed class EmbeddedRecordDevice : ITwoPassIntervalInvalidator
    {
        private int _inUse;

        public FinishRecord Record { get; } = new();

        public AddressSpace? Space { get; set; }

        public int SyncPaths { get; private set; }

        public int Finishes { get; private set; }

        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence) => true;

        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            subscription.SetSequence(currentSequence);
            if (Interlocked.Exchange(ref _inUse, 1) != 0)
            {
                SyncPaths++; // a concurrent invalidation holds the embedded record
                finish = null;
                return true;
            }

            finish = Record;
            return true;
        }

        public void InvalidateFinish(FinishRecord finish)
        {
            Finishes++;
            Volatile.Write(ref _inUse, 0);

            // The core is done with the record: another invalidation may take it at once.
            if (Finishes == 1 && Space is not null)
            {
                Space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
            }
        }
    }

    [Fact]
    public void EmbeddedRecord_MayBeReusedFromInsideItsFinish()
    {
        using var space = new AddressSpace();
        var device = new EmbeddedRecordDevice { Space = space };
        space.Subscribe(0, 10, device);
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(2, device.Finishes); // the nested invalidation took the record again
        Assert.Equal(0, device.SyncPaths);
    }

    [Fact]
    public void EmbeddedRecord_ConcurrentInvalidationTakesTheSynchronousPath()
    {
        using var space = new AddressSpace();
        var device = new EmbeddedRecordDevice();
        var blocker = new RecordingInvalidator();
        space.Subscribe(0, 10, device);
        var inBlocker = new ManualResetEventSlim();
        var proceed = new ManualResetEventSlim();
        blocker.OnInvalidate = (_, r, _) =>
        {
            if (r.Start == 0 && r.Event != InvalidationEvent.Release && !inBlocker.IsSet)
            {
                inBlocker.Set();
                Waiting.For(proceed);
            }

            return true;
        };
        space.Subscribe(5, 10, blocker);

        Task a = Waiting.OnThread(() => space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose());
        Assert.True(Waiting.For(inBlocker)); // A holds the embedded record
        Waiting.Completes(Waiting.OnThread(() => space.BeginInvalidation(new InvalidationRange(0, 3)).Dispose()), "B");
        proceed.Set();
        Waiting.Completes(a, "A");
        Assert.Equal(1, device.SyncPaths);
        Assert.Equal(1, device.Finishes);
    }
}
