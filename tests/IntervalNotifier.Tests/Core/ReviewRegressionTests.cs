using System.Diagnostics.Metrics;
using IntervalNotifier.Diagnostics;

namespace IntervalNotifier.Tests.Core;

/// <summary>Contracts found untested in review: release and deferred inserts, unsubscribing from any pass, wrap, ranges made with 'with'.</summary>
public sealed class ReviewRegressionTests
{
    [Fact]
    public void Dispose_WhileAnInsertIsDeferred_InvalidatesItToo_AndItsUnsubscribeWaitsForTheOtherBracket()
    {
        var space = new AddressSpace();
        space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope other = Waiting.Completes(Waiting.OnThread(() => space.BeginInvalidation(new InvalidationRange(0, 10))), "other begin");
        var late = new RecordingInvalidator();
        IntervalSubscription pending = space.Subscribe(500, 10, late); // deferred: S is odd
        space.Dispose();

        Call call = Assert.Single(late.Calls);
        Assert.Equal(InvalidationEvent.Release, call.Range.Event);

        // The release walk saw it: unsubscribing it now waits for the end, like a tree member.
        Task unsubscribe = Waiting.OnThread(pending.Unsubscribe);
        Waiting.AssertBlocked(unsubscribe, "Unsubscribe of a deferred insert the release walk saw");
        Waiting.Completes(Waiting.OnThread(other.Dispose), "other end");
        Waiting.Completes(unsubscribe, "Unsubscribe");
        Assert.Equal(1, space.SubscriptionCount);
        Assert.DoesNotContain(pending, space.GetSubscriptions());
    }

    [Fact]
    public void Dispose_WhileAnInsertIsDeferred_ItStaysRegisteredAfterwards()
    {
        var space = new AddressSpace();
        space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope other = Waiting.Completes(Waiting.OnThread(() => space.BeginInvalidation(new InvalidationRange(0, 10))), "other begin");
        IntervalSubscription pending = space.Subscribe(5, 10, new RecordingInvalidator());
        space.Dispose();
        Waiting.Completes(Waiting.OnThread(other.Dispose), "other end");
        Assert.Equal(2, space.SubscriptionCount);
        Assert.Contains(pending, space.GetSubscriptions());
        pending.Unsubscribe(); // idle now: removed at once
        Assert.Equal(1, space.SubscriptionCount);
    }

    [Fact]
    public async Task UnsubscribeAsync_OfADeferredInsertSeenByRelease_Cancelled_PutsItBackAsAnInsert()
    {
        var space = new AddressSpace();
        space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope other = await Waiting.OnThread(() => space.BeginInvalidation(new InvalidationRange(0, 10)));
        IntervalSubscription pending = space.Subscribe(5, 10, new RecordingInvalidator());
        space.Dispose();
        using var cts = new CancellationTokenSource();
        Task unsubscribe = await Waiting.OnThread(() => pending.UnsubscribeAsync(cts.Token).AsTask());
        Assert.False(pending.IsSubscribed);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => unsubscribe.WaitAsync(Waiting.Patience, TestContext.Current.CancellationToken));
        Assert.True(pending.IsSubscribed);
        await Waiting.OnThread(other.Dispose);
        Assert.Contains(pending, space.GetSubscriptions()); // the insert was applied at the end
    }

    private sealed class UnsubscribingDevice(bool inFinish) : ITwoPassIntervalInvalidator
    {
        public IntervalSubscription? Victim { get; set; }

        public Exception? Thrown { get; private set; }

        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence) => true;

        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            finish = range.Event == InvalidationEvent.Release ? null : new FinishRecord();
            if (!inFinish && finish is not null)
            {
                Thrown = Record.Exception(Victim!.Unsubscribe);
            }

            return true;
        }

        public void InvalidateFinish(FinishRecord finish)
        {
            if (inFinish)
            {
                Thrown = Record.Exception(Victim!.Unsubscribe);
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Unsubscribe_FromAStartOrFinishPass_WhenItWouldWait_Throws(bool inFinish)
    {
        using var space = new AddressSpace();
        var device = new UnsubscribingDevice(inFinish);
        space.Subscribe(0, 10, device);
        device.Victim = space.Subscribe(500, 10, new RecordingInvalidator());
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.IsType<InvalidOperationException>(device.Thrown);
        Assert.True(device.Victim.IsSubscribed);
    }

    [Fact]
    public void UnsubscribeAsync_ByAThreadHoldingAnOpenBracket_WhenItWouldWait_ThrowsSynchronously()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        using (space.BeginInvalidation(new InvalidationRange(0, 10)))
        {
            Assert.Throws<InvalidOperationException>(() => { _ = s.UnsubscribeAsync(TestContext.Current.CancellationToken).AsTask(); });
            Assert.True(s.IsSubscribed);
        }
    }

    [Fact]
    public void Sequence_WrapsAroundTwoToTheSixtyFour_ComparedForEqualityOnly()
    {
        using var space = new AddressSpace(null, ulong.MaxValue - 3);
        var inv = new RecordingInvalidator();
        IntervalSubscription s = space.Subscribe(0, 10, inv);
        Assert.Equal(ulong.MaxValue - 4, s.Sequence);
        for (int i = 0; i < 4; i++)
        {
            ulong seq = s.ReadBegin();
            Assert.False(s.ReadRetry(seq));
            Task<ulong> reader;
            using (space.BeginInvalidation(new InvalidationRange(0, 10)))
            {
                Assert.True(s.ReadRetry(seq));
                Assert.Equal(1UL, space.Sequence & 1);
                reader = Waiting.OnThread(s.ReadBegin);
                Waiting.AssertBlocked(reader, "ReadBegin across the wrap");
            }

            Assert.Equal(s.Sequence, Waiting.Completes(reader, "ReadBegin after the end"));
            Assert.Equal(0UL, space.Sequence & 1);
        }

        // MaxValue-3 → odd MaxValue-2 → MaxValue-1 → odd MaxValue → 0 (wrapped) → 1 → 2 → 3 → 4.
        Assert.Equal(4UL, space.Sequence);
        Assert.Equal([ulong.MaxValue - 2, ulong.MaxValue, 1UL, 3UL], inv.Calls.Select(c => c.Sequence));
        IntervalSubscription fresh = space.Subscribe(0, 10, inv);
        Assert.Equal(3UL, fresh.Sequence);
    }

    [Fact]
    public void RangesMadeWithWith_AreValidatedWhenAnInvalidationBegins()
    {
        using var space = new AddressSpace();
        var range = new InvalidationRange(0, 10);
        Assert.Equal("range", Assert.Throws<ArgumentException>(() => space.BeginInvalidation(range with { Start = 20 })).ParamName);
        Assert.Equal("range", Assert.Throws<ArgumentException>(() => space.BeginInvalidation(range with { Owner = new object() })).ParamName);
        Assert.Equal("range", Assert.Throws<ArgumentException>(() => space.BeginInvalidation(range with { Event = (InvalidationEvent)42 })).ParamName);
        Assert.Equal(0, space.ActiveInvalidations);

        InvalidationRange moved = range with { Start = 5, End = 0 }; // End = 0: up to 2^64 - 1
        Assert.Equal(ulong.MaxValue, moved.Last);
        var inv = new RecordingInvalidator();
        space.SubscribeInclusive(ulong.MaxValue, ulong.MaxValue, inv);
        space.BeginInvalidation(moved).Dispose();
        Assert.Equal(1, inv.Count);
        space.BeginInvalidation(range with { Event = InvalidationEvent.Migrate, Owner = space }).Dispose();
    }

    [Fact]
    public void Metrics_CountInvalidationsByEvent_Callbacks_FinishRecords_Fallbacks_AndWaits()
    {
        using var metrics = MetricsRecorder.ForNewSpace();
        using var space = new AddressSpace(metrics.Options);
        var pool = new FinishRecordPool<DeviceRecord>(1);
        space.Subscribe(0, 10, new TwoPassDevice("a", pool));
        space.Subscribe(0, 10, new TwoPassDevice("b", pool)); // the pool has one record: b falls back
        IntervalSubscription single = space.Subscribe(0, 10, new RecordingInvalidator());

        space.BeginInvalidation(new InvalidationRange(0, 10, InvalidationEvent.Clear)).Dispose();
        Task<ulong> reader;
        using (space.BeginInvalidation(new InvalidationRange(0, 10, InvalidationEvent.SoftDirty)))
        {
            reader = Waiting.OnThread(single.ReadBegin);
            Waiting.AssertBlocked(reader, "reader");
        }

        Waiting.Completes(reader, "reader");
        Waiting.Until(() => metrics[NotifierMetrics.Waits] == 1, "the wait is counted");
        Assert.Equal(2, metrics[NotifierMetrics.Invalidations]);
        Assert.Equal(["Clear", "SoftDirty"], metrics.TagValues(NotifierMetrics.Invalidations, NotifierMetrics.EventTag));
        Assert.Equal(6, metrics[NotifierMetrics.Callbacks]);
        Assert.Equal(2, metrics[NotifierMetrics.FinishRecords]);
        Assert.Equal(2, metrics[NotifierMetrics.Fallbacks]);
        Assert.Equal(["read_begin"], metrics.TagValues(NotifierMetrics.Waits, NotifierMetrics.WaitTag));
    }

    [Fact]
    public void Metrics_AThrowingStartIsNotCountedAsAFallback()
    {
        using var metrics = MetricsRecorder.ForNewSpace();
        using var space = new AddressSpace(metrics.Options);
        var device = new TwoPassDevice("a", new FinishRecordPool<DeviceRecord>(1, AllocationFaults.Always))
        {
            OnStart = r => r.Event == InvalidationEvent.Release ? true : throw new FormatException(),
        };
        space.Subscribe(0, 10, device);
        Assert.Throws<FormatException>(() => space.BeginInvalidation(new InvalidationRange(0, 10)));
        Assert.Equal(0, metrics[NotifierMetrics.Fallbacks]);
        Assert.Equal(1, metrics[NotifierMetrics.CallbackExceptions]);
    }
}
