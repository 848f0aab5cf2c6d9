namespace IntervalNotifier.Tests.Ranges;

/// <summary>docs/contract.md §2: ranges, validation, walk order, events and owner.</summary>
public sealed class RangeTests
{
    private static readonly RecordingInvalidator Nop = new();

    [Fact]
    public void Subscribe_ZeroLength_ThrowsNamingLength()
    {
        using var space = new AddressSpace();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => space.Subscribe(10, 0, Nop));
        Assert.Equal("length", e.ParamName);
        Assert.Equal(0, space.SubscriptionCount);
    }

    [Theory]
    [InlineData(2UL, ulong.MaxValue)]
    [InlineData(ulong.MaxValue, 2UL)]
    [InlineData(0x8000_0000_0000_0000UL, 0x8000_0000_0000_0001UL)]
    public void Subscribe_EndOverflows_ThrowsNamingLength(ulong start, ulong length)
    {
        using var space = new AddressSpace();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => space.Subscribe(start, length, Nop));
        Assert.Equal("length", e.ParamName);
    }

    [Theory]
    [InlineData(0UL, ulong.MaxValue, ulong.MaxValue - 1)]
    [InlineData(1UL, ulong.MaxValue, ulong.MaxValue)]
    [InlineData(ulong.MaxValue, 1UL, ulong.MaxValue)]
    [InlineData(0x1000UL, 0x1000UL, 0x1FFFUL)]
    public void Subscribe_LargestRanges_CoverStartToStartPlusLengthMinusOne(ulong start, ulong length, ulong expectedLast)
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(start, length, Nop);
        Assert.Equal(start, s.Start);
        Assert.Equal(expectedLast, s.Last);
        Assert.Same(space, s.AddressSpace);
        Assert.Same(Nop, s.Invalidator);
    }

    [Fact]
    public void Subscribe_NullInvalidator_Throws()
    {
        using var space = new AddressSpace();
        Assert.Equal("invalidator", Assert.Throws<ArgumentNullException>(() => space.Subscribe(0, 1, null!)).ParamName);
        Assert.Equal("invalidator", Assert.Throws<ArgumentNullException>(() => space.SubscribeInclusive(0, 1, null!)).ParamName);
    }

    [Fact]
    public void SubscribeInclusive_WholeSpace_IsHitAtBothEnds()
    {
        using var space = new AddressSpace();
        var inv = new RecordingInvalidator();
        IntervalSubscription s = space.SubscribeInclusive(0, ulong.MaxValue, inv);
        Assert.Equal(0UL, s.Start);
        Assert.Equal(ulong.MaxValue, s.Last);

        space.BeginInvalidation(new InvalidationRange(0, 1)).Dispose();
        space.BeginInvalidation(InvalidationRange.Inclusive(ulong.MaxValue, ulong.MaxValue)).Dispose();
        Assert.Equal(2, inv.Count);
    }

    [Fact]
    public void SubscribeInclusive_Inverted_ThrowsNamingLast()
    {
        using var space = new AddressSpace();
        Assert.Equal("last", Assert.Throws<ArgumentOutOfRangeException>(() => space.SubscribeInclusive(5, 4, Nop)).ParamName);
    }

    [Theory]
    [InlineData(10UL, 10UL)]
    [InlineData(10UL, 9UL)]
    [InlineData(0UL, 0UL)]
    public void InvalidationRange_EmptyOrInverted_ThrowsNamingEnd(ulong start, ulong end)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new InvalidationRange(start, end));
        Assert.Equal("End", e.ParamName);
    }

    [Fact]
    public void InvalidationRange_Inclusive_InvertedThrows_TopAddressReportsEndZero()
    {
        Assert.Equal("last", Assert.Throws<ArgumentOutOfRangeException>(() => InvalidationRange.Inclusive(5, 4)).ParamName);

        InvalidationRange top = InvalidationRange.Inclusive(ulong.MaxValue - 1, ulong.MaxValue);
        Assert.Equal(0UL, top.End);
        Assert.Equal(ulong.MaxValue, top.Last);

        InvalidationRange ordinary = new(0x1000, 0x2000);
        Assert.Equal(0x1FFFUL, ordinary.Last);
        Assert.Equal(ordinary, InvalidationRange.Inclusive(0x1000, 0x1FFF));
    }

    [Fact]
    public void InvalidationRange_HasValueEquality_AndDeconstructs()
    {
        var owner = new object();
        var a = new InvalidationRange(1, 5, InvalidationEvent.Migrate, Owner: owner);
        var b = InvalidationRange.Inclusive(1, 4, InvalidationEvent.Migrate, owner: owner);
        Assert.Equal(a, b);
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, a with { Event = InvalidationEvent.Exclusive });
        Assert.True(a.Blockable); // a range a caller builds: the begin decides
        (ulong start, ulong end, InvalidationEvent ev, object? o) = a;
        Assert.Equal((1UL, 5UL, InvalidationEvent.Migrate), (start, end, ev));
        Assert.Same(owner, o);
        Assert.Contains("Migrate", a.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(InvalidationEvent.Unmap)]
    [InlineData(InvalidationEvent.Clear)]
    [InlineData(InvalidationEvent.ProtectionVma)]
    [InlineData(InvalidationEvent.ProtectionPage)]
    [InlineData(InvalidationEvent.SoftDirty)]
    [InlineData(InvalidationEvent.Release)]
    public void InvalidationRange_OwnerWithEventThatHasNone_Throws(InvalidationEvent ev)
    {
        Assert.Equal("Owner", Assert.Throws<ArgumentException>(() => new InvalidationRange(0, 1, ev, Owner: new object())).ParamName);
        Assert.Equal("owner", Assert.Throws<ArgumentException>(() => InvalidationRange.Inclusive(0, 1, ev, owner: new object())).ParamName);
    }

    [Fact]
    public void InvalidationRange_UndefinedEvent_Throws()
    {
        Assert.Equal("Event", Assert.Throws<ArgumentOutOfRangeException>(() => new InvalidationRange(0, 1, (InvalidationEvent)99)).ParamName);
    }

    [Fact]
    public void Events_AreDeclaredInTheSpecifiedOrder()
    {
        Assert.Equal(
            ["Unmap", "Clear", "ProtectionVma", "ProtectionPage", "SoftDirty", "Release", "Migrate", "Exclusive"],
            Enum.GetNames<InvalidationEvent>());
    }

    [Theory]
    [InlineData(InvalidationEvent.Migrate)]
    [InlineData(InvalidationEvent.Exclusive)]
    public void Owner_ReachesTheCallback_WithItsEvent(InvalidationEvent ev)
    {
        using var space = new AddressSpace();
        var inv = new RecordingInvalidator();
        space.Subscribe(0, 100, inv);
        var owner = new object();
        space.BeginInvalidation(new InvalidationRange(10, 20, ev, Owner: owner)).Dispose();
        Call call = Assert.Single(inv.Calls);
        Assert.Equal(ev, call.Range.Event);
        Assert.Same(owner, call.Range.Owner);
        Assert.Equal(10UL, call.Range.Start);
        Assert.Equal(20UL, call.Range.End);
    }

    [Fact]
    public void DefaultRange_IsRejectedByBegin()
    {
        using var space = new AddressSpace();
        Assert.Equal("range", Assert.Throws<ArgumentException>(() => space.BeginInvalidation(default)).ParamName);
        Assert.Equal("range", Assert.Throws<ArgumentException>(() => space.TryBeginInvalidation(default, out _)).ParamName);
        Assert.Equal(0, space.ActiveInvalidations);
    }

    [Theory]
    [InlineData(99UL, 100UL, false)] // ends just before
    [InlineData(99UL, 101UL, true)]  // touches the first address
    [InlineData(199UL, 300UL, true)] // touches the last address
    [InlineData(200UL, 300UL, false)] // starts just after
    [InlineData(150UL, 151UL, true)] // inside
    [InlineData(0UL, 1000UL, true)]  // around
    public void Hit_IsOverlapOfClosedSubscriptionAndHalfOpenRange(ulong start, ulong end, bool hit)
    {
        using var space = new AddressSpace();
        var inv = new RecordingInvalidator();
        space.Subscribe(100, 100, inv); // [100, 199]
        space.BeginInvalidation(new InvalidationRange(start, end)).Dispose();
        Assert.Equal(hit ? 1 : 0, inv.Count);
    }

    [Fact]
    public void Walk_VisitsInAscendingStart_EarlierSubscribedFirstAmongEqualStarts()
    {
        using var space = new AddressSpace();
        var log = new List<string>();
        space.Subscribe(300, 10, new RecordingInvalidator("c", log: log));
        space.Subscribe(100, 50, new RecordingInvalidator("a1", log: log));
        space.Subscribe(200, 10, new RecordingInvalidator("b", log: log));
        space.Subscribe(100, 5, new RecordingInvalidator("a2", log: log));
        space.Subscribe(100, 500, new RecordingInvalidator("a3", log: log));
        space.Subscribe(5000, 1, new RecordingInvalidator("miss", log: log));

        space.BeginInvalidation(new InvalidationRange(0, 1000)).Dispose();
        Assert.Equal(["a1", "a2", "a3", "b", "c"], log);
    }

    [Fact]
    public void Walk_DeferredInsertsWithEqualStarts_KeepSubscribeOrder()
    {
        using var space = new AddressSpace();
        var log = new List<string>();
        space.Subscribe(100, 10, new RecordingInvalidator("a", log: log));
        using (space.BeginInvalidation(new InvalidationRange(100, 101)))
        {
            // Deferred: a walk may be running.
            space.Subscribe(100, 10, new RecordingInvalidator("b", log: log));
            space.Subscribe(50, 100, new RecordingInvalidator("first", log: log));
            space.Subscribe(100, 10, new RecordingInvalidator("c", log: log));
        }

        log.Clear();
        space.BeginInvalidation(new InvalidationRange(0, 1000)).Dispose();
        Assert.Equal(["first", "a", "b", "c"], log);
    }

    [Fact]
    public void SubscriptionCountAndSnapshot_ListLiveSubscriptionsInWalkOrder_IncludingDeferredInserts()
    {
        using var space = new AddressSpace();
        IntervalSubscription a = space.Subscribe(100, 10, Nop);
        IntervalSubscription b = space.Subscribe(50, 10, Nop);
        IntervalSubscription c = space.Subscribe(100, 1, Nop);
        Assert.Equal(3, space.SubscriptionCount);
        Assert.Equal([b, a, c], space.GetSubscriptions());

        using (space.BeginInvalidation(new InvalidationRange(100, 101)))
        {
            IntervalSubscription d = space.Subscribe(100, 3, Nop); // deferred; equal start: after a and c
            IntervalSubscription e = space.Subscribe(0, 3, Nop);   // deferred; first of all
            Assert.Equal(5, space.SubscriptionCount);
            Assert.Equal([e, b, a, c, d], space.GetSubscriptions());

            d.Unsubscribe(); // a queued insert is cancelled at once
            Assert.Equal(4, space.SubscriptionCount);
            Assert.Equal([e, b, a, c], space.GetSubscriptions());
        }

        Assert.Equal(4, space.SubscriptionCount);
        Assert.Equal(4, space.GetSubscriptions().Length);
        a.Unsubscribe();
        Assert.Equal(3, space.SubscriptionCount);
        Assert.DoesNotContain(a, space.GetSubscriptions());
    }

    [Fact]
    [Trait("Found", "review")]
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
    [Trait("Found", "mutation testing")]
    public void InvalidationRange_ToString_IsReadable()
    {
        Assert.Equal("[0x1000, 0x1fff] Unmap blockable", new InvalidationRange(0x1000, 0x2000).ToString());
        Assert.Equal("[0x0, 0xffffffffffffffff] Migrate blockable owner me",
            InvalidationRange.Inclusive(0, ulong.MaxValue, InvalidationEvent.Migrate, owner: "me").ToString());
        Assert.Equal("[0x0, 0x0] Unmap non-blockable", InvalidationRange.Inclusive(0, 0).AsNonBlockable().ToString());
        Assert.Equal("(default InvalidationRange)", default(InvalidationRange).ToString());
        Assert.Equal("[0x10, 0x1f]", new AddressSpace().Subscribe(0x10, 0x10, new RecordingInvalidator()).ToString());
    }
}
