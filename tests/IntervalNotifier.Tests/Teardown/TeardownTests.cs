namespace IntervalNotifier.Tests.Teardown;

/// <summary>docs/contract.md §7: teardown (release).</summary>
public sealed class TeardownTests
{
    [Fact]
    public void Dispose_RunsOneBlockableReleaseInvalidation_OverTheWholeSpace_IncludingTheTopAddress()
    {
        var space = new AddressSpace();
        var low = new RecordingInvalidator();
        var top = new RecordingInvalidator();
        var everything = new RecordingInvalidator();
        space.Subscribe(0, 1, low);
        space.SubscribeInclusive(ulong.MaxValue, ulong.MaxValue, top);
        space.SubscribeInclusive(0, ulong.MaxValue, everything);

        space.Dispose();

        foreach (RecordingInvalidator inv in new[] { low, top, everything })
        {
            Call call = Assert.Single(inv.Calls);
            Assert.Equal(InvalidationEvent.Release, call.Range.Event);
            Assert.True(call.Range.Blockable);
            Assert.Equal(0UL, call.Range.Start);
            Assert.Equal(ulong.MaxValue, call.Range.Last);
        }

        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(0UL, space.Sequence & 1);
    }

    [Fact]
    public void Dispose_LeavesSubscriptionsRegistered_AndUnsubscribeStillWorks()
    {
        var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        space.Dispose();
        Assert.True(s.IsSubscribed);
        Assert.Equal(1, space.SubscriptionCount);
        Assert.Equal([s], space.GetSubscriptions());
        ulong seq = s.ReadBegin();
        Assert.False(s.ReadRetry(seq));
        s.Unsubscribe();
        Assert.Equal(0, space.SubscriptionCount);
    }

    [Fact]
    public void AfterDispose_SubscribeAndBegin_ThrowObjectDisposed()
    {
        var space = new AddressSpace();
        space.Dispose();
        Assert.Throws<ObjectDisposedException>(() => space.Subscribe(0, 1, new RecordingInvalidator()));
        Assert.Throws<ObjectDisposedException>(() => space.SubscribeInclusive(0, 1, new RecordingInvalidator()));
        Assert.Throws<ObjectDisposedException>(() => space.BeginInvalidation(new InvalidationRange(0, 1)));
        Assert.Throws<ObjectDisposedException>(() => space.TryBeginInvalidation(new InvalidationRange(0, 1), out _));
        Assert.Equal(0, space.ActiveInvalidations);
    }

    [Fact]
    public void Dispose_Twice_DoesNothingTheSecondTime()
    {
        var space = new AddressSpace();
        var inv = new RecordingInvalidator();
        space.Subscribe(0, 1, inv);
        space.Dispose();
        space.Dispose();
        Assert.Equal(1, inv.Count);
    }

    [Fact]
    public void Dispose_WhenCallbacksThrow_CompletesTheTeardown_ThenRethrows()
    {
        var space = new AddressSpace();
        var boom = new InvalidOperationException("boom");
        var after = new RecordingInvalidator();
        space.Subscribe(0, 1, new RecordingInvalidator(onInvalidate: (_, _, _) => throw boom));
        space.Subscribe(5, 1, after);

        Exception e = Assert.Throws<InvalidOperationException>(space.Dispose);
        Assert.Same(boom, e);
        Assert.Equal(1, after.Count);
        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(0UL, space.Sequence & 1);
        Assert.Throws<ObjectDisposedException>(() => space.Subscribe(0, 1, after));
        space.Dispose(); // released already: nothing more
        Assert.Equal(1, after.Count);
    }

    [Fact]
    public void Dispose_WhileAnotherInvalidationIsOpen_AppliesDeferredChangesAtTheLastEnd()
    {
        var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope open = space.BeginInvalidation(new InvalidationRange(0, 10));
        space.Dispose(); // nested bracket on this thread: fine
        Assert.Equal(1, space.ActiveInvalidations);
        Assert.Equal(1UL, space.Sequence & 1);
        open.Dispose();
        Assert.Equal(0UL, space.Sequence & 1);
        s.Unsubscribe();
    }

    [Fact]
    [Trait("Found", "review")]
    public void Dispose_WhileAnInsertIsDeferred_InvalidatesItToo_AndItsUnsubscribeWaitsForTheOtherBracket()
    {
        var space = new AddressSpace();
        space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope other = Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0, 10))), "other begin");
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

    // §2: hits are visited by ascending start, deferred inserts included — the release too. The
    // release merges the deferred inserts into the tree's order (ties: tree members first, then
    // deferred inserts in the order they were deferred), and the finish pass follows start order.
    [Fact]
    [Trait("Found", "review")]
    public void Dispose_WithDeferredInserts_VisitsEverySubscriptionByAscendingStart_StartsAndFinishes()
    {
        var log = new List<string>();
        var pool = new FinishRecordPool<DeviceRecord>(8);
        var space = new AddressSpace();
        space.Subscribe(100, 10, new TwoPassDevice("tree100", pool, log));
        space.Subscribe(300, 10, new TwoPassDevice("tree300", pool, log));
        space.Subscribe(0, 1, new RecordingInvalidator("opener")); // the other bracket hits it: S odd
        InvalidationScope other = Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0, 1))), "other begin");
        space.Subscribe(200, 10, new TwoPassDevice("deferred200", pool, log)); // deferred: S is odd
        space.Subscribe(0, 10, new TwoPassDevice("deferred0", pool, log));
        space.Subscribe(100, 10, new TwoPassDevice("deferred100", pool, log));
        space.Subscribe(0, 5, new TwoPassDevice("deferred0b", pool, log));
        log.Clear();

        space.Dispose();
        Waiting.Completes(Waiting.OnThread(other.Dispose), "other end");

        string[] order = ["deferred0", "deferred0b", "tree100", "deferred100", "deferred200", "tree300"];
        Assert.Equal([.. order.Select(n => $"start:{n}"), .. order.Select(n => $"finish:{n}")], log);
    }

    [Fact]
    [Trait("Found", "review")]
    public void Dispose_WhileAnInsertIsDeferred_ItStaysRegisteredAfterwards()
    {
        var space = new AddressSpace();
        space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope other = Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0, 10))), "other begin");
        IntervalSubscription pending = space.Subscribe(5, 10, new RecordingInvalidator());
        space.Dispose();
        Waiting.Completes(Waiting.OnThread(other.Dispose), "other end");
        Assert.Equal(2, space.SubscriptionCount);
        Assert.Contains(pending, space.GetSubscriptions());
        pending.Unsubscribe(); // idle now: removed at once
        Assert.Equal(1, space.SubscriptionCount);
    }

    [Fact]
    [Trait("Found", "review")]
    public async Task UnsubscribeAsync_OfADeferredInsertSeenByRelease_Cancelled_PutsItBackAsAnInsert()
    {
        var space = new AddressSpace();
        space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope other = await Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0, 10)));
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

    [Fact]
    [Trait("Found", "mutation testing")]
    public void PendingRemovals_AreLeftOutOfSnapshots_ButReleaseStillCallsThem()
    {
        var space = new AddressSpace();
        var leaving = new RecordingInvalidator();
        IntervalSubscription s = space.Subscribe(0, 10, leaving);
        IntervalSubscription stays = space.Subscribe(50, 10, new RecordingInvalidator());
        InvalidationScope scope = Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0, 10))), "begin");
        Task unsubscribe = Waiting.OnThread(s.Unsubscribe);
        Waiting.Until(() => !s.IsSubscribed, "the removal is queued");
        Assert.Equal([stays], space.GetSubscriptions());

        space.Dispose(); // its callbacks still run until the last end: release reaches it
        Assert.Equal(InvalidationEvent.Release, leaving.Calls[^1].Range.Event);
        Waiting.Completes(Waiting.OnThread(scope.Dispose), "end");
        Waiting.Completes(unsubscribe, "unsubscribe");
    }
}
