using IntervalNotifier.Diagnostics;

namespace IntervalNotifier.Tests.DotNet;

/// <summary>docs/contract.md §8 (observability): what the instruments count, and when.</summary>
public sealed class MetricsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    [Trait("Found", "review")]
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
    [Trait("Found", "review")]
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

    [Fact]
    [Trait("Found", "mutation testing")]
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
    [Trait("Found", "mutation testing")]
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
    [Trait("Found", "mutation testing")]
    public async Task Metrics_AsyncWaits_AreCountedToo()
    {
        using var metrics = MetricsRecorder.ForNewSpace();
        using var space = new AddressSpace(metrics.Options);
        IntervalSubscription a = space.Subscribe(0, 10, new RecordingInvalidator());
        IntervalSubscription b = space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope scope = await space.BeginInvalidationAsync(new InvalidationRange(0, 10)); // held across await: an asynchronous bracket
        Task<ulong> read = await Waiting.OnThread(() => a.ReadBeginAsync(Ct).AsTask());
        Task unsubscribe = await Waiting.OnThread(() => b.UnsubscribeAsync(Ct).AsTask());
        scope.Dispose();
        await read.WaitAsync(Waiting.Patience, Ct);
        await unsubscribe.WaitAsync(Waiting.Patience, Ct);
        Assert.Equal(["read_begin", "unsubscribe"], metrics.TagValues(NotifierMetrics.Waits, NotifierMetrics.WaitTag).Order());
        Assert.Equal(["remove"], metrics.TagValues(NotifierMetrics.DeferredChanges, NotifierMetrics.ChangeTag));
    }

    // A finish that throws is a callback exception, counted once, on each of the three paths a
    // finish can take: the synchronous begin's finish pass, the awaitable begin's finish that
    // fails at once, and its finish that fails after the begin has gone pending.
    [Theory]
    [Trait("Found", "mutation testing")]
    [InlineData("sync")]
    [InlineData("async, at once")]
    [InlineData("async, later")]
    public async Task Metrics_AThrowingFinishIsCountedAsACallbackException(string path)
    {
        using var metrics = MetricsRecorder.ForNewSpace();
        var space = new AddressSpace(metrics.Options);
        await using var disposal = Waiting.DisposesInTime(space);
        var pool = new FinishRecordPool<FinishRecord>(1);
        var device = new FailingFinish(pool, later: path == "async, later");
        space.Subscribe(0, 10, device);

        if (path == "sync")
        {
            Assert.Throws<FormatException>(() => space.BeginInvalidation(new InvalidationRange(0, 10)));
        }
        else
        {
            await Assert.ThrowsAsync<FormatException>(async () => await space.BeginInvalidationAsync(new InvalidationRange(0, 10)));
        }

        Assert.Equal(1, metrics[NotifierMetrics.CallbackExceptions]);
        Assert.Equal(0, pool.Rented);
        Assert.Equal(0, space.ActiveInvalidations);
    }

    // Each form of unsubscribe counts a deferred removal only when it queued one, and a wait
    // (with its duration) only when it waited: idle, a removal deferred by a running
    // invalidation of the subscription, and a wait for a removal someone else queued.
    [Theory]
    [Trait("Found", "mutation testing")]
    [InlineData("Unsubscribe", false, 0, 0)]
    [InlineData("Unsubscribe", true, 1, 1)]
    [InlineData("UnsubscribeDeferred", false, 0, 0)]
    [InlineData("UnsubscribeDeferred", true, 1, 0)]
    [InlineData("UnsubscribeAsync", false, 0, 0)]
    [InlineData("UnsubscribeAsync", true, 1, 1)]
    [InlineData("UnsubscribeAsync after UnsubscribeDeferred", true, 1, 1)]
    [InlineData("Dispose after UnsubscribeDeferred", true, 1, 1)]
    public async Task Metrics_AnUnsubscribeCountsWhatItDeferredAndWhetherItWaited(string form, bool invalidating, long deferred, long waits)
    {
        using var metrics = MetricsRecorder.ForNewSpace();
        using var space = new AddressSpace(metrics.Options);
        IntervalSubscription subscription = space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope? open = invalidating ? Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0, 10))), "begin") : null;

        Task done = form switch
        {
            "Unsubscribe" => Waiting.OnThread(subscription.Unsubscribe),
            "UnsubscribeDeferred" => Task.Run(subscription.UnsubscribeDeferred, Ct),
            "UnsubscribeAsync" => subscription.UnsubscribeAsync(Ct).AsTask(),
            "UnsubscribeAsync after UnsubscribeDeferred" => Deferred(subscription).UnsubscribeAsync(Ct).AsTask(),
            _ => Waiting.OnThread(Deferred(subscription).Dispose),
        };
        if (waits > 0)
        {
            Waiting.AssertBlocked(done, form); // a synchronous form counts its wait once it has ended
        }
        else
        {
            await done.WaitAsync(Waiting.Patience, Ct); // it never waits: done while the bracket is open
        }

        open?.Dispose();
        await done.WaitAsync(Waiting.Patience, Ct);

        Assert.False(subscription.IsSubscribed);
        Assert.Equal(deferred, metrics[NotifierMetrics.DeferredChanges]);
        Assert.Equal(waits, metrics[NotifierMetrics.Waits]);
        Assert.Equal(waits, metrics.Measurements(NotifierMetrics.WaitDuration));
        Assert.All(metrics.TagValues(NotifierMetrics.Waits, NotifierMetrics.WaitTag), tag => Assert.Equal("unsubscribe", tag));

        static IntervalSubscription Deferred(IntervalSubscription subscription)
        {
            subscription.UnsubscribeDeferred();
            return subscription;
        }
    }

    // An awaitable begin that goes pending reports its call phase and its later completions as
    // one invalidation: every callback, record, fallback, refusal and exception counted once.
    [Fact]
    [Trait("Found", "mutation testing")]
    public async Task Metrics_AnAwaitableBeginThatWentPending_CountsItsWalkOnce()
    {
        using var metrics = MetricsRecorder.ForNewSpace();
        var space = new AddressSpace(metrics.Options);
        await using var disposal = Waiting.DisposesInTime(space);
        var log = new List<string>();
        var pending = new AsyncDevice("pending", new FinishRecordPool<DeviceRecord>(2), log);
        space.Subscribe(0, 10, pending);
        space.Subscribe(0, 10, new TwoPassDevice("fallback", new FinishRecordPool<DeviceRecord>(1, AllocationFaults.Always)));
        space.Subscribe(0, 10, new RecordingInvalidator(onInvalidate: (_, r, _) => r.Event == InvalidationEvent.Release));
        space.Subscribe(0, 10, new RecordingInvalidator(onInvalidate: (_, r, _) => r.Event == InvalidationEvent.Release ? true : throw new FormatException()));

        ValueTask<InvalidationScope> begin = space.BeginInvalidationAsync(new InvalidationRange(0, 10));
        Assert.False(begin.IsCompleted);
        Waiting.Until(() => pending.Completions.Count == 1, "the finish is called");
        pending.Completions[0].SetResult();
        await Assert.ThrowsAsync<FormatException>(async () => await begin.AsTask().WaitAsync(Waiting.Patience, Ct)); // the core ended it

        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(1, metrics[NotifierMetrics.Invalidations]);
        Assert.Equal(1, metrics[NotifierMetrics.CallbackExceptions]);
        Assert.Equal(4, metrics[NotifierMetrics.Callbacks]);
        Assert.Equal(1, metrics[NotifierMetrics.FinishRecords]);
        Assert.Equal(1, metrics[NotifierMetrics.Fallbacks]);
        Assert.Equal(1, metrics[NotifierMetrics.BlockableRefusals]);
    }

    // A start that returns its record with false (a misuse) in the call phase of an awaitable
    // begin that went pending: counted once, when the begin concludes.
    [Fact]
    [Trait("Found", "mutation testing")]
    public async Task Metrics_AnAwaitableBeginThatWentPending_CountsACallPhaseMisuseOnce()
    {
        using var metrics = MetricsRecorder.ForNewSpace();
        var space = new AddressSpace(metrics.Options);
        await using var disposal = Waiting.DisposesInTime(space);
        var pending = new AsyncDevice("pending", new FinishRecordPool<DeviceRecord>(2), []);
        var misusedPool = new FinishRecordPool<DeviceRecord>(1);
        space.Subscribe(0, 10, pending);
        space.Subscribe(0, 10, new RecordWithFalse(misusedPool));

        ValueTask<InvalidationScope> begin = space.BeginInvalidationAsync(new InvalidationRange(0, 10));
        Assert.False(begin.IsCompleted);
        Waiting.Until(() => pending.Completions.Count == 1, "the finish is called");
        pending.Completions[0].SetResult();
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await begin.AsTask().WaitAsync(Waiting.Patience, Ct));

        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(0, misusedPool.Rented); // back in its pool, unfinished
        Assert.Equal(1, metrics[NotifierMetrics.Invalidations]);
        Assert.Equal(1, metrics[NotifierMetrics.RecordMisuses]);
    }

    private sealed class RecordWithFalse(FinishRecordPool<DeviceRecord> pool) : ITwoPassIntervalInvalidator
    {
        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            subscription.SetSequence(currentSequence);
            finish = range.Event != InvalidationEvent.Release && pool.TryRent(out DeviceRecord? record) ? record : null;
            return finish is null;
        }

        public void InvalidateFinish(FinishRecord finish)
        {
        }
    }

    private sealed class FailingFinish(FinishRecordPool<FinishRecord> pool, bool later) : IAsyncTwoPassIntervalInvalidator
    {
        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            subscription.SetSequence(currentSequence);
            finish = range.Event != InvalidationEvent.Release && pool.TryRent(out FinishRecord? record) ? record : null;
            return true;
        }

        public void InvalidateFinish(FinishRecord finish) => throw new FormatException("finish");

        public ValueTask InvalidateFinishAsync(FinishRecord finish) => later ? Later() : ValueTask.FromException(new FormatException("finish"));

        private static async ValueTask Later()
        {
            await Task.Yield();
            throw new FormatException("finish, later");
        }
    }
}
