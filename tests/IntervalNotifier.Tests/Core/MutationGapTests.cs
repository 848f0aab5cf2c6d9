using IntervalNotifier.Diagnostics;

namespace IntervalNotifier.Tests.Core;

/// <summary>
/// Behaviours that mutation testing showed no test would notice breaking: metrics of the
/// unsubscribe and async paths, aggregate collection, the walk going on after a throw in a
/// non-blockable walk, pending removals in snapshots and in release, Dispose racing a cancelled
/// UnsubscribeAsync, and debugger display.
/// </summary>
public sealed class MutationGapTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Metrics_DeferredInsertsAreCountedOnlyWhenDeferred()
    {
        using var metrics = MetricsRecorder.ForNewSpace();
        using var space = new AddressSpace(metrics.Options);
        space.Subscribe(0, 10, new RecordingInvalidator());
        space.Subscribe(20, 10, new RecordingInvalidator()); // idle: not deferred
        using (space.BeginInvalidation(new InvalidationRange(0, 10)))
        {
            space.Subscribe(0, 5, new RecordingInvalidator()); // deferred
        }

        Assert.Equal(1, metrics[NotifierMetrics.DeferredChanges]);
    }

    [Fact]
    public void Metrics_AWaitingUnsubscribe_CountsADeferredRemoveAndAWait()
    {
        using var metrics = MetricsRecorder.ForNewSpace();
        using var space = new AddressSpace(metrics.Options);
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        IntervalSubscription quick = space.Subscribe(100, 10, new RecordingInvalidator());
        quick.Unsubscribe(); // idle: neither deferred nor waiting
        InvalidationScope scope = space.BeginInvalidation(new InvalidationRange(0, 10));
        Task unsubscribe = Waiting.OnThread(s.Unsubscribe);
        Waiting.AssertBlocked(unsubscribe, "unsubscribe");
        scope.Dispose();
        Waiting.Completes(unsubscribe, "unsubscribe");
        Assert.Equal(["remove"], metrics.TagValues(NotifierMetrics.DeferredChanges, NotifierMetrics.ChangeTag));
        Assert.Equal(["unsubscribe"], metrics.TagValues(NotifierMetrics.Waits, NotifierMetrics.WaitTag));
    }

    [Fact]
    public async Task Metrics_AsyncWaits_AreCountedToo()
    {
        using var metrics = MetricsRecorder.ForNewSpace();
        using var space = new AddressSpace(metrics.Options);
        IntervalSubscription a = space.Subscribe(0, 10, new RecordingInvalidator());
        IntervalSubscription b = space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope scope = space.BeginInvalidation(new InvalidationRange(0, 10));
        Task<ulong> read = await Waiting.OnThread(() => a.ReadBeginAsync(Ct).AsTask());
        Task unsubscribe = await Waiting.OnThread(() => b.UnsubscribeAsync(Ct).AsTask());
        scope.Dispose();
        await read.WaitAsync(Waiting.Patience, Ct);
        await unsubscribe.WaitAsync(Waiting.Patience, Ct);
        Assert.Equal(["read_begin", "unsubscribe"], metrics.TagValues(NotifierMetrics.Waits, NotifierMetrics.WaitTag).Order());
        Assert.Equal(["remove"], metrics.TagValues(NotifierMetrics.DeferredChanges, NotifierMetrics.ChangeTag));
    }

    [Fact]
    public void ThreeThrowingCallbacks_AllReachTheAggregate()
    {
        using var space = new AddressSpace();
        Exception[] thrown = [new FormatException("1"), new FormatException("2"), new FormatException("3")];
        for (int i = 0; i < 3; i++)
        {
            Exception e = thrown[i];
            space.Subscribe((ulong)i, 10, new RecordingInvalidator(onInvalidate: (_, r, _) => r.Event == InvalidationEvent.Release ? true : throw e));
        }

        var aggregate = Assert.Throws<AggregateException>(() => space.BeginInvalidation(new InvalidationRange(0, 20)));
        Assert.Equal(thrown, aggregate.InnerExceptions);
    }

    [Fact]
    public void ThrowingCallback_InANonBlockableWalk_TheWalkGoesOn()
    {
        using var space = new AddressSpace();
        var after = new RecordingInvalidator();
        space.Subscribe(0, 10, new RecordingInvalidator(onInvalidate: (_, r, _) => r.Event == InvalidationEvent.Release ? true : throw new FormatException()));
        space.Subscribe(5, 10, after);
        Assert.Throws<FormatException>(() => space.TryBeginInvalidation(new InvalidationRange(0, 20, Blockable: false), out _));
        Assert.Equal(1, after.Count);
    }

    [Fact]
    public void PendingRemovals_AreLeftOutOfSnapshots_ButReleaseStillCallsThem()
    {
        var space = new AddressSpace();
        var leaving = new RecordingInvalidator();
        IntervalSubscription s = space.Subscribe(0, 10, leaving);
        IntervalSubscription stays = space.Subscribe(50, 10, new RecordingInvalidator());
        InvalidationScope scope = Waiting.Completes(Waiting.OnThread(() => space.BeginInvalidation(new InvalidationRange(0, 10))), "begin");
        Task unsubscribe = Waiting.OnThread(s.Unsubscribe);
        Waiting.Until(() => !s.IsSubscribed, "the removal is queued");
        Assert.Equal([stays], space.GetSubscriptions());

        space.Dispose(); // its callbacks still run until the last end: release reaches it
        Assert.Equal(InvalidationEvent.Release, leaving.Calls[^1].Range.Event);
        Waiting.Completes(Waiting.OnThread(scope.Dispose), "end");
        Waiting.Completes(unsubscribe, "unsubscribe");
    }

    [Fact]
    public void Dispose_WhileAnotherThreadUnsubscribes_FromAThreadHoldingABracket_Throws()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        Task unsubscribe;
        using (space.BeginInvalidation(new InvalidationRange(0, 10)))
        {
            unsubscribe = Waiting.OnThread(s.Unsubscribe);
            Waiting.Until(() => !s.IsSubscribed, "the removal is queued");
            Assert.Throws<InvalidOperationException>(s.Dispose);
        }

        Waiting.Completes(unsubscribe, "unsubscribe");
    }

    [Fact]
    public async Task Dispose_WaitingOnACancelledUnsubscribeAsync_UnsubscribesItself()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope scope = await Waiting.OnThread(() => space.BeginInvalidation(new InvalidationRange(0, 10)));
        using var cts = new CancellationTokenSource();
        Task unsubscribeAsync = await Waiting.OnThread(() => s.UnsubscribeAsync(cts.Token).AsTask());
        Task dispose = Waiting.OnThread(s.Dispose); // waits for the other's removal
        Waiting.AssertBlocked(dispose, "Dispose");
        await cts.CancelAsync();                    // the other's removal is taken back
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => unsubscribeAsync.WaitAsync(Waiting.Patience, Ct));
        await Waiting.OnThread(scope.Dispose);
        await dispose.WaitAsync(Waiting.Patience, Ct);
        Assert.False(s.IsSubscribed);               // Dispose went on and unsubscribed it
        Assert.Equal(0, space.SubscriptionCount);
    }

    [Fact]
    public void DebuggerDisplay_ShowsNameSequenceActiveSubscriptionsAndRelease()
    {
        var space = new AddressSpace(new AddressSpaceOptions { Name = "gpu0" });
        space.Subscribe(0, 10, new RecordingInvalidator());
        Assert.Equal("gpu0: Sequence = 2, Active = 0, Subscriptions = 1", space.DebuggerDisplay);
        space.Dispose();
        Assert.Equal("gpu0: Sequence = 4, Active = 0, Subscriptions = 1, released", space.DebuggerDisplay);
        Assert.Equal("Sequence = 2, Active = 0, Subscriptions = 0", new AddressSpace().DebuggerDisplay);
    }

    [Fact]
    public void InvalidationRange_ToString_IsReadable()
    {
        Assert.Equal("[0x1000, 0x1fff] Unmap blockable", new InvalidationRange(0x1000, 0x2000).ToString());
        Assert.Equal("[0x0, 0xffffffffffffffff] Migrate non-blockable owner me",
            InvalidationRange.Inclusive(0, ulong.MaxValue, InvalidationEvent.Migrate, blockable: false, owner: "me").ToString());
        Assert.Equal("(default InvalidationRange)", default(InvalidationRange).ToString());
        Assert.Equal("[0x10, 0x1f]", new AddressSpace().Subscribe(0x10, 0x10, new RecordingInvalidator()).ToString());
    }
}
