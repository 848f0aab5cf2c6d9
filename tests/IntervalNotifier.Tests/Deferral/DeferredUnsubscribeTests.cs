namespace IntervalNotifier.Tests.Deferral;

/// <summary>
/// docs/contract.md §5, deferred unsubscribe: <see cref="IntervalSubscription.UnsubscribeDeferred"/>
/// never waits and never throws for a self-wait; it removes at once while S is even, drops a
/// deferred insert, and otherwise queues the removal for the last end, after which no callback of
/// the subscription starts.
/// </summary>
public sealed class DeferredUnsubscribeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Idle_RemovesAtOnce()
    {
        using var space = new AddressSpace();
        var mirror = new RecordingInvalidator();
        IntervalSubscription s = space.Subscribe(0, 10, mirror);

        s.UnsubscribeDeferred();

        Assert.False(s.IsSubscribed);
        Assert.Equal(0, space.SubscriptionCount);
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Empty(mirror.Calls);
        s.Dispose(); // quiet afterwards
    }

    [Fact]
    public void DuringAnOddPeriod_ReturnsAtOnce_AndNoCallbackStartsAfterTheLastEnd()
    {
        using var space = new AddressSpace();
        var mirror = new RecordingInvalidator();
        IntervalSubscription s = space.Subscribe(0, 10, mirror);
        InvalidationScope open = space.BeginInvalidation(new InvalidationRange(0, 10)); // S odd, the walk called it
        Assert.Single(mirror.Calls);

        s.UnsubscribeDeferred(); // on the thread that holds the bracket: a waiting form would throw

        Assert.False(s.IsSubscribed);
        Assert.Equal(0, space.SubscriptionCount);
        Assert.DoesNotContain(s, space.GetSubscriptions());
        open.Dispose(); // the last end applies the removal

        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Single(mirror.Calls);
        Assert.Equal(0UL, space.Sequence & 1);
    }

    [Fact]
    public void FromItsOwnCallback_NeitherThrowsNorWaits_AndTheSubscriptionIsGoneAfterTheEnd()
    {
        using var space = new AddressSpace();
        Exception? thrown = null;
        var mirror = new RecordingInvalidator(onInvalidate: (sub, range, _) =>
        {
            if (range.Event != InvalidationEvent.Release)
            {
                thrown = Record.Exception(sub.UnsubscribeDeferred);
            }

            return true;
        });
        IntervalSubscription s = space.Subscribe(0, 10, mirror);

        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose(); // the writer gets no exception

        Assert.Null(thrown);
        Assert.False(s.IsSubscribed);
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Single(mirror.Calls);
    }

    [Fact]
    public void FromTwoPassStartAndFinish_NeitherThrows()
    {
        using var space = new AddressSpace();
        var pool = new FinishRecordPool<DeviceRecord>(4);
        var fromStart = new TwoPassDevice("start", pool);
        var fromFinish = new TwoPassDevice("finish", pool);
        IntervalSubscription a = space.Subscribe(0, 10, fromStart);
        IntervalSubscription b = space.Subscribe(0, 10, fromFinish);
        var thrown = new List<Exception?>();
        fromStart.OnStart = range =>
        {
            if (range.Event != InvalidationEvent.Release)
            {
                thrown.Add(Record.Exception(a.UnsubscribeDeferred));
            }

            return true;
        };
        fromFinish.OnFinish = record =>
        {
            if (record.Range.Event != InvalidationEvent.Release)
            {
                thrown.Add(Record.Exception(b.UnsubscribeDeferred));
            }

            return true;
        };

        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();

        Assert.Equal([null, null], thrown);
        Assert.Equal(0, space.SubscriptionCount);
        Assert.Equal(0, pool.Rented);
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(1, fromStart.Starts);
        Assert.Equal(1, fromFinish.Starts);
    }

    [Fact]
    public void OfAnInsertStillDeferred_DropsIt_ItNeverGetsACallback()
    {
        using var space = new AddressSpace();
        space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope open = space.BeginInvalidation(new InvalidationRange(0, 10)); // S odd
        var late = new RecordingInvalidator();
        IntervalSubscription pending = space.Subscribe(0, 10, late); // deferred
        Assert.Equal(2, space.SubscriptionCount);

        pending.UnsubscribeDeferred();

        Assert.False(pending.IsSubscribed);
        Assert.Equal(1, space.SubscriptionCount);
        open.Dispose();
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Empty(late.Calls);
        Assert.Single(space.GetSubscriptions());
    }

    [Fact]
    public void Twice_OrAfterUnsubscribe_DoesNothing()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        using (space.BeginInvalidation(new InvalidationRange(0, 10)))
        {
            s.UnsubscribeDeferred();
            s.UnsubscribeDeferred(); // already queued
            Assert.Equal(0, space.SubscriptionCount);
        }

        s.UnsubscribeDeferred(); // already out
        IntervalSubscription t = space.Subscribe(0, 10, new RecordingInvalidator());
        t.Unsubscribe();
        t.UnsubscribeDeferred();
        Assert.Equal(0, space.SubscriptionCount);
    }

    [Fact]
    public void ALaterUnsubscribe_WaitsForTheQueuedRemoval_ThenReturnsQuietly()
    {
        using var space = new AddressSpace();
        var mirror = new RecordingInvalidator();
        IntervalSubscription s = space.Subscribe(0, 10, mirror);
        InvalidationScope open = Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0, 10))), "begin");
        s.UnsubscribeDeferred();

        Task unsubscribe = Waiting.OnThread(s.Unsubscribe);
        Task unsubscribeAsync = Waiting.OnThread(() => s.UnsubscribeAsync(Ct).AsTask().Wait(Ct));
        Waiting.AssertBlocked(unsubscribe, "Unsubscribe after UnsubscribeDeferred, before the last end");
        Waiting.AssertBlocked(unsubscribeAsync, "UnsubscribeAsync after UnsubscribeDeferred, before the last end");

        Waiting.Completes(Waiting.OnThread(open.Dispose), "end");
        Waiting.Completes(unsubscribe, "Unsubscribe");
        Waiting.Completes(unsubscribeAsync, "UnsubscribeAsync");
        s.Unsubscribe(); // quiet: the removal was asked for by UnsubscribeDeferred
        Assert.Single(mirror.Calls);
    }

    [Fact]
    public async Task ACancelledUnsubscribeAsync_DoesNotTakeBackTheDeferredRemoval()
    {
        using var space = new AddressSpace();
        var mirror = new RecordingInvalidator();
        IntervalSubscription s = space.Subscribe(0, 10, mirror);
        InvalidationScope open = Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0, 10))), "begin");
        using var cts = new CancellationTokenSource();
        Task pending = await Waiting.OnThread(() => s.UnsubscribeAsync(cts.Token).AsTask()); // queues the removal
        s.UnsubscribeDeferred(); // asks for it too

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);

        Assert.False(s.IsSubscribed);
        Waiting.Completes(Waiting.OnThread(open.Dispose), "end");
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Single(mirror.Calls);
        Assert.Equal(0, space.SubscriptionCount);
    }

    [Fact]
    public void AfterTeardown_RemovesAtOnce()
    {
        var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        space.Dispose();

        s.UnsubscribeDeferred();

        Assert.False(s.IsSubscribed);
        Assert.Equal(0, space.SubscriptionCount);
    }

    [Fact]
    public void AllocatesNothing()
    {
        using var space = new AddressSpace();
        var subs = Enumerable.Range(0, 8).Select(i => space.Subscribe((ulong)i * 10, 10, new RecordingInvalidator())).ToArray();
        InvalidationScope open = space.BeginInvalidation(new InvalidationRange(0, 80));
        subs[0].UnsubscribeDeferred(); // warm
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 1; i < subs.Length; i++)
        {
            subs[i].UnsubscribeDeferred();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        open.Dispose();
        Assert.Equal(0, allocated);
    }
}
