using IntervalNotifier.Diagnostics;

namespace IntervalNotifier.Tests.Deferral;

/// <summary>docs/contract.md §5: tree changes during invalidations.</summary>
public sealed class DeferralTests
{
    [Fact]
    public void Subscribe_WhileIdle_InsertsNow_WithSequenceMinusOne()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        Assert.Equal(space.Sequence - 1, s.Sequence);
        Assert.True(s.IsSubscribed);
        var inv = (RecordingInvalidator)s.Invalidator;
        space.BeginInvalidation(new InvalidationRange(0, 1)).Dispose();
        Assert.Equal(1, inv.Count);
    }

    [Fact]
    public void Subscribe_DuringAnOddPeriod_IsDeferred_NotWalked_AndAppliedByTheLastEnd()
    {
        using var metrics = MetricsRecorder.ForNewSpace();
        using var space = new AddressSpace(metrics.Options);
        space.Subscribe(0, 100, new RecordingInvalidator());
        var late = new RecordingInvalidator();
        IntervalSubscription s;
        InvalidationScope outer = space.BeginInvalidation(new InvalidationRange(0, 10));
        s = space.Subscribe(0, 100, late);
        Assert.Equal(space.Sequence, s.Sequence); // s = S: readers wait for the running invalidations
        Assert.Equal(2, space.SubscriptionCount);
        Assert.True(s.IsSubscribed);

        // Not in the tree yet: a nested invalidation in the same period does not see it.
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(0, late.Count);

        Task<ulong> reader = Waiting.OnThread(s.ReadBegin);
        Waiting.AssertBlocked(reader, "ReadBegin on a deferred subscription");
        outer.Dispose();
        Waiting.Completes(reader, "ReadBegin after the last end");

        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(1, late.Count);
        Assert.Equal(1, metrics[NotifierMetrics.DeferredChanges]);
        Assert.Equal(["insert"], metrics.TagValues(NotifierMetrics.DeferredChanges, NotifierMetrics.ChangeTag));
    }

    [Fact]
    public void Subscribe_WhileBracketsAreOpenButHitNothing_MakesSequenceOdd_AndInsertsNow()
    {
        using var space = new AddressSpace();
        var inv = new RecordingInvalidator();
        InvalidationScope open = space.BeginInvalidation(new InvalidationRange(0, 10)); // hits nothing
        Assert.Equal(2UL, space.Sequence);

        IntervalSubscription s = space.Subscribe(0, 100, inv);
        Assert.Equal(3UL, space.Sequence);
        Assert.Equal(3UL, s.Sequence);

        // In the tree at once: another invalidation (same odd period) walks it.
        space.BeginInvalidation(new InvalidationRange(50, 51)).Dispose();
        Assert.Equal(1, inv.Count);

        // Its readers wait for the open bracket: the new range may be inside it.
        Task<ulong> reader = Waiting.OnThread(s.ReadBegin);
        Waiting.AssertBlocked(reader, "ReadBegin while the open bracket may cover the new range");
        open.Dispose();
        Waiting.Completes(reader, "ReadBegin after the end");
        Assert.Equal(4UL, space.Sequence);
    }

    [Fact]
    public void Unsubscribe_OfAStillDeferredInsert_DropsItAtOnce_EvenFromTheInvalidatingThread()
    {
        using var space = new AddressSpace();
        space.Subscribe(0, 10, new RecordingInvalidator());
        var inv = new RecordingInvalidator();
        using (space.BeginInvalidation(new InvalidationRange(0, 10)))
        {
            IntervalSubscription s = space.Subscribe(0, 10, inv);
            s.Unsubscribe();
            Assert.False(s.IsSubscribed);
            Assert.Equal(1, space.SubscriptionCount);
        }

        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(0, inv.Count);
        Assert.Single(space.GetSubscriptions());
    }

    [Fact]
    public void Unsubscribe_WhileSequenceIsEven_RemovesNow()
    {
        using var space = new AddressSpace();
        var inv = new RecordingInvalidator();
        IntervalSubscription s = space.Subscribe(100, 10, inv);
        using (space.BeginInvalidation(new InvalidationRange(0, 10))) // active, but S even
        {
            s.Unsubscribe(); // no wait, no throw, even on the invalidating thread
            Assert.False(s.IsSubscribed);
            Assert.Equal(0, space.SubscriptionCount);
        }

        space.BeginInvalidation(new InvalidationRange(100, 110)).Dispose();
        Assert.Equal(0, inv.Count);
    }

    [Fact]
    public void Unsubscribe_WhileSequenceIsOdd_WaitsForTheLastEnd_ThenNoCallbackRuns()
    {
        using var space = new AddressSpace();
        var inv = new RecordingInvalidator();
        IntervalSubscription s = space.Subscribe(0, 10, inv);
        InvalidationScope first = space.BeginInvalidation(new InvalidationRange(0, 10));
        Assert.Equal(1, inv.Count);

        Task unsubscribe = Waiting.OnThread(s.Unsubscribe);
        Waiting.Until(() => space.SubscriptionCount == 0, "the removal is queued");
        Assert.False(s.IsSubscribed);
        Waiting.AssertBlocked(unsubscribe, "Unsubscribe while an invalidation may walk the subscription");

        // Still in the tree until the last end: another invalidation in this period still calls it.
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(2, inv.Count);
        Waiting.AssertBlocked(unsubscribe, "Unsubscribe while one invalidation is still active");

        first.Dispose();
        Waiting.Completes(unsubscribe, "Unsubscribe after the last end");
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(2, inv.Count);
        Assert.Empty(space.GetSubscriptions());
    }

    [Fact]
    public void Unsubscribe_ReturnsOnlyAfterARunningCallbackHasReturned()
    {
        using var space = new AddressSpace();
        var inside = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        bool callbackDone = false;
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator(onInvalidate: (_, _, _) =>
        {
            inside.Set();
            Waiting.For(release);
            Volatile.Write(ref callbackDone, true);
            return true;
        }));

        Task invalidator = Waiting.OnThread(() => space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose());
        Assert.True(Waiting.For(inside));
        Task unsubscribe = Waiting.OnThread(s.Unsubscribe);
        Waiting.AssertBlocked(unsubscribe, "Unsubscribe while its callback runs");
        release.Set();
        Waiting.Completes(unsubscribe, "Unsubscribe");
        Assert.True(Volatile.Read(ref callbackDone));
        Waiting.Completes(invalidator, "invalidator");
    }

    [Fact]
    public void Unsubscribe_FromInsideAnyCallback_WhenItWouldWait_Throws_AndChangesNothing()
    {
        using var space = new AddressSpace();
        IntervalSubscription? victim = null;
        Exception? fromCallback = null;
        space.Subscribe(0, 10, new RecordingInvalidator(onInvalidate: (_, range, _) =>
        {
            if (range.Event != InvalidationEvent.Release)
            {
                fromCallback = Record.Exception(victim!.Unsubscribe);
            }

            return true;
        }));
        victim = space.Subscribe(500, 10, new RecordingInvalidator()); // not even hit

        // On a thread of its own: a detection that broke fails after the patience, not by hanging.
        Waiting.Completes(Waiting.OnThread(() => space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose()), "the invalidation");
        Assert.IsType<InvalidOperationException>(fromCallback);
        Assert.True(victim.IsSubscribed);
        Assert.Equal(2, space.SubscriptionCount);
        victim.Unsubscribe(); // fine afterwards
        Assert.False(victim.IsSubscribed);
    }

    // §5, last bullet: every awaitable form that detects a self-wait throws from the call itself,
    // so that a synchronous callback that drops the returned task (`_ = sub.DisposeAsync()`) gets
    // the error instead of a silent no-op, and nothing changes.
    public static TheoryData<string> AwaitableForms => ["UnsubscribeAsync", "DisposeAsync", "ReadBeginAsync"];

    [Theory]
    [Trait("Found", "review")]
    [MemberData(nameof(AwaitableForms))]
    public void AwaitableForms_OfItselfFromInsideItsOwnCallback_ThrowSynchronously_AndChangeNothing(string form)
    {
        using var space = new AddressSpace();
        Exception? thrown = null;
        bool returned = false;
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator(onInvalidate: (sub, range, _) =>
        {
            if (range.Event != InvalidationEvent.Release)
            {
                thrown = Record.Exception(() =>
                {
                    Task dropped = form switch
                    {
                        "UnsubscribeAsync" => sub.UnsubscribeAsync(TestContext.Current.CancellationToken).AsTask(),
                        "DisposeAsync" => sub.DisposeAsync().AsTask(),
                        _ => sub.ReadBeginAsync(TestContext.Current.CancellationToken).AsTask(),
                    };
                    returned = dropped is not null; // a task came back: the misuse would be silent
                });
            }

            return true;
        }));

        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();

        Assert.False(returned, $"{form} returned a task instead of throwing");
        Assert.IsType<InvalidOperationException>(thrown);
        Assert.True(s.IsSubscribed);
        Assert.Equal(1, space.SubscriptionCount);
    }

    [Theory]
    [MemberData(nameof(AwaitableForms))]
    public void AwaitableForms_FromInsideATwoPassStartOrFinish_ThrowSynchronously(string form)
    {
        using var space = new AddressSpace();
        var pool = new FinishRecordPool<DeviceRecord>(4);
        var device = new TwoPassDevice("device", pool);
        IntervalSubscription victim = space.Subscribe(500, 10, new RecordingInvalidator()); // not hit
        var thrown = new List<Exception?>();
        Func<Task> call = form switch
        {
            "UnsubscribeAsync" => () => victim.UnsubscribeAsync(TestContext.Current.CancellationToken).AsTask(),
            "DisposeAsync" => () => victim.DisposeAsync().AsTask(),
            _ => () => victim.ReadBeginAsync(TestContext.Current.CancellationToken).AsTask(),
        };
        device.OnStart = range =>
        {
            if (range.Event != InvalidationEvent.Release)
            {
                thrown.Add(Record.Exception(() => { _ = call(); }));
            }

            return true;
        };
        device.OnFinish = record =>
        {
            if (record.Range.Event != InvalidationEvent.Release)
            {
                thrown.Add(Record.Exception(() => { _ = call(); }));
            }

            return true;
        };
        space.Subscribe(0, 10, device);

        // ReadBeginAsync waits only if its own subscription is being invalidated: make it so.
        using (form == "ReadBeginAsync" ? space.BeginInvalidation(new InvalidationRange(500, 501)) : default(InvalidationScope?))
        {
            space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        }

        Assert.Equal(2, thrown.Count);
        Assert.All(thrown, e => Assert.IsType<InvalidOperationException>(e));
        Assert.True(victim.IsSubscribed);
    }

    [Fact]
    public void Unsubscribe_OfItselfFromInsideItsOwnCallback_Throws()
    {
        using var space = new AddressSpace();
        Exception? thrown = null;
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator(onInvalidate: (sub, range, _) =>
        {
            if (range.Event != InvalidationEvent.Release)
            {
                thrown = Record.Exception(sub.Dispose);
            }

            return true;
        }));
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.IsType<InvalidOperationException>(thrown);
        Assert.True(s.IsSubscribed);
    }

    [Fact]
    public void Unsubscribe_ByAThreadHoldingAnOpenBracket_WhenItWouldWait_Throws()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        Waiting.Completes(Waiting.OnThread(() => // bounded: a broken detection fails after the patience
        {
            using (space.BeginInvalidation(new InvalidationRange(0, 10)))
            {
                Assert.Throws<InvalidOperationException>(s.Unsubscribe);
                Assert.Throws<InvalidOperationException>(s.Dispose);
                Assert.True(s.IsSubscribed);
            }
        }), "the unsubscriber holding a bracket");

        s.Unsubscribe();
        Assert.False(s.IsSubscribed);
    }

    [Fact]
    public void Subscribe_FromInsideACallback_IsDeferred_AndWorksAfterTheEnd()
    {
        using var space = new AddressSpace();
        var child = new RecordingInvalidator();
        IntervalSubscription? created = null;
        space.Subscribe(0, 10, new RecordingInvalidator(onInvalidate: (_, range, _) =>
        {
            if (created is null && range.Event != InvalidationEvent.Release)
            {
                created = space.Subscribe(0, 10, child);
            }

            return true;
        }));

        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.NotNull(created);
        Assert.Equal(0, child.Count); // deferred: not walked by the invalidation that created it
        Assert.Equal(2, space.SubscriptionCount);
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(1, child.Count);
    }

    [Fact]
    public void DeferredChanges_AreAppliedOnlyByTheLastEnd_OfNestedBrackets()
    {
        using var space = new AddressSpace();
        space.Subscribe(0, 10, new RecordingInvalidator());
        var late = new RecordingInvalidator();
        InvalidationScope a = space.BeginInvalidation(new InvalidationRange(0, 10));
        InvalidationScope b = space.BeginInvalidation(new InvalidationRange(0, 10));
        space.Subscribe(0, 10, late);
        b.Dispose();
        Waiting.Completes(Waiting.OnThread(() => space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose()), "other");
        Assert.Equal(0, late.Count); // still deferred: `a` is open
        a.Dispose();
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(1, late.Count);
    }

    [Fact]
    public void Unsubscribe_Twice_Throws_ButDisposeAfterUnsubscribeDoesNothing()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        s.Unsubscribe();
        var e = Assert.Throws<InvalidOperationException>(s.Unsubscribe);
        Assert.Equal("The subscription is already unsubscribed.", e.Message);
        s.Dispose();
        s.Dispose();
        Assert.Equal(0, space.SubscriptionCount);
    }

    [Fact]
    public void Unsubscribe_WhileAnotherThreadIsUnsubscribingIt_Throws_ButDisposeWaitsToo()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope scope = Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0, 10))), "begin");
        Task first = Waiting.OnThread(s.Unsubscribe);
        Waiting.Until(() => !s.IsSubscribed, "the removal is queued");
        var e = Assert.IsType<InvalidOperationException>(Record.Exception(s.Unsubscribe));
        Assert.Equal("The subscription is being unsubscribed already.", e.Message);
        Task second = Waiting.OnThread(s.Dispose);
        Waiting.AssertBlocked(second, "Dispose while the removal is pending");
        Waiting.Completes(Waiting.OnThread(scope.Dispose), "end");
        Waiting.Completes(first, "first unsubscribe");
        Waiting.Completes(second, "dispose");
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
    [Trait("Found", "review")]
    [InlineData(false)]
    [InlineData(true)]
    public void Unsubscribe_FromAStartOrFinishPass_WhenItWouldWait_Throws(bool inFinish)
    {
        using var space = new AddressSpace();
        var device = new UnsubscribingDevice(inFinish);
        space.Subscribe(0, 10, device);
        device.Victim = space.Subscribe(500, 10, new RecordingInvalidator());
        Waiting.Completes(Waiting.OnThread(() => space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose()), "the invalidation"); // bounded
        Assert.IsType<InvalidOperationException>(device.Thrown);
        Assert.True(device.Victim.IsSubscribed);
    }

    [Fact]
    [Trait("Found", "mutation testing")]
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
    [Trait("Found", "mutation testing")]
    public async Task Dispose_WaitingOnACancelledUnsubscribeAsync_UnsubscribesItself()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope scope = await Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0, 10)));
        using var cts = new CancellationTokenSource();
        Task unsubscribeAsync = await Waiting.OnThread(() => s.UnsubscribeAsync(cts.Token).AsTask());
        Task dispose = Waiting.OnThread(s.Dispose); // waits for the other's removal
        Waiting.AssertBlocked(dispose, "Dispose");
        await cts.CancelAsync();                    // the other's removal is taken back
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => unsubscribeAsync.WaitAsync(Waiting.Patience, TestContext.Current.CancellationToken));
        await Waiting.OnThread(scope.Dispose);
        await dispose.WaitAsync(Waiting.Patience, TestContext.Current.CancellationToken);
        Assert.False(s.IsSubscribed);               // Dispose went on and unsubscribed it
        Assert.Equal(0, space.SubscriptionCount);
    }
}
