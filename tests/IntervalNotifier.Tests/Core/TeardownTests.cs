namespace IntervalNotifier.Tests.Core;

/// <summary>semantics.md §7: teardown (release).</summary>
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
        Assert.Throws<ObjectDisposedException>(() => space.TryBeginInvalidation(new InvalidationRange(0, 1, Blockable: false), out _));
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
}
