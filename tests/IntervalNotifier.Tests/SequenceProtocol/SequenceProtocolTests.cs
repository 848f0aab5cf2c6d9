namespace IntervalNotifier.Tests.SequenceProtocol;

/// <summary>docs/contract.md §3: the sequence protocol (collision–retry).</summary>
public sealed class SequenceProtocolTests
{
    [Fact]
    public void Sequence_StartsAtTwo_AndIsEvenWhileIdle()
    {
        using var space = new AddressSpace();
        Assert.Equal(2UL, space.Sequence);
        Assert.Equal(0, space.ActiveInvalidations);
    }

    [Fact]
    public void Begin_ThatHits_MakesSequenceOdd_AndPassesItToTheCallback_EndMakesItEven()
    {
        using var space = new AddressSpace();
        ulong seen = 0;
        ulong duringWalk = 0;
        space.Subscribe(0, 10, new RecordingInvalidator(onInvalidate: (_, _, seq) =>
        {
            seen = seq;
            duringWalk = space.Sequence;
            return true;
        }));

        InvalidationScope scope = space.BeginInvalidation(new InvalidationRange(0, 1));
        Assert.Equal(3UL, seen);
        Assert.Equal(3UL, duringWalk);
        Assert.Equal(3UL, space.Sequence);
        Assert.Equal(1, space.ActiveInvalidations);
        scope.Dispose();
        Assert.Equal(4UL, space.Sequence);
        Assert.Equal(0, space.ActiveInvalidations);

        space.BeginInvalidation(new InvalidationRange(0, 1)).Dispose();
        Assert.Equal(5UL, seen);
        Assert.Equal(6UL, space.Sequence);
    }

    [Fact]
    public void Begin_ThatHitsNothing_LeavesSequenceEven()
    {
        using var space = new AddressSpace();
        space.Subscribe(100, 10, new RecordingInvalidator());
        using (space.BeginInvalidation(new InvalidationRange(0, 100)))
        {
            Assert.Equal(2UL, space.Sequence);
            Assert.Equal(1, space.ActiveInvalidations);
        }

        Assert.Equal(2UL, space.Sequence);
    }

    [Fact]
    public void Sequence_StaysOdd_ThroughLaterInvalidationsThatHitNothing_UntilTheLastEnd()
    {
        using var space = new AddressSpace();
        var inv = new RecordingInvalidator();
        space.Subscribe(0, 10, inv);

        InvalidationScope hit = space.BeginInvalidation(new InvalidationRange(0, 1));
        InvalidationScope miss = space.BeginInvalidation(new InvalidationRange(500, 600));
        Assert.Equal(3UL, space.Sequence);
        Assert.Equal(2, space.ActiveInvalidations);

        hit.Dispose();
        Assert.Equal(3UL, space.Sequence); // still odd: one invalidation is active
        InvalidationScope another = space.BeginInvalidation(new InvalidationRange(0, 1));
        Assert.Equal(3UL, inv.Calls[^1].Sequence); // the same odd value: one period
        another.Dispose();
        Assert.Equal(3UL, space.Sequence);

        miss.Dispose();
        Assert.Equal(4UL, space.Sequence);
    }

    [Fact]
    public void ConcurrentBrackets_FromTwoThreads_ShareOneOddPeriod()
    {
        using var space = new AddressSpace();
        var inv = new RecordingInvalidator();
        space.Subscribe(0, 100, inv);
        InvalidationScope first = space.BeginInvalidation(new InvalidationRange(0, 10));
        InvalidationScope second = Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(5, 50))), "second begin");
        Assert.Equal([3UL, 3UL], inv.Calls.Select(c => c.Sequence));
        Assert.NotEqual(inv.Calls[0].ThreadId, inv.Calls[1].ThreadId);
        first.Dispose();
        Assert.Equal(3UL, space.Sequence);
        Waiting.Completes(Waiting.OnThread(second.Dispose), "second end");
        Assert.Equal(4UL, space.Sequence);
    }

    [Fact]
    public void NewSubscription_WhenIdle_IsSeededWithSequenceMinusOne_AndReadBeginReturnsAtOnce()
    {
        using var space = new AddressSpace();
        space.Subscribe(0, 1, new RecordingInvalidator());
        space.BeginInvalidation(new InvalidationRange(0, 1)).Dispose(); // S = 4
        IntervalSubscription s = space.Subscribe(100, 1, new RecordingInvalidator());
        Assert.Equal(3UL, s.Sequence);
        Assert.Equal(3UL, s.ReadBegin());
        Assert.False(s.ReadRetry(3));
        Assert.False(s.CheckRetry(3));
    }

    [Fact]
    public void ReadRetry_AfterAnInvalidationHitTheSubscription_IsTrue()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        ulong seq = s.ReadBegin();
        space.BeginInvalidation(new InvalidationRange(5, 6)).Dispose();
        Assert.True(s.ReadRetry(seq));
        Assert.True(s.CheckRetry(seq));

        ulong again = s.ReadBegin();
        Assert.NotEqual(seq, again);
        Assert.False(s.ReadRetry(again));
    }

    [Fact]
    public void ReadRetry_AfterAnUnrelatedInvalidation_IsFalse()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        space.Subscribe(100, 10, new RecordingInvalidator());
        ulong seq = s.ReadBegin();
        space.BeginInvalidation(new InvalidationRange(100, 101)).Dispose();
        Assert.False(s.ReadRetry(seq));
    }

    [Fact]
    public void Callback_ThatRecordsNothing_LeavesReadersUndisturbed()
    {
        // A callback that decides the event does not concern it sets no sequence (and holds no copy).
        using var space = new AddressSpace();
        var inv = new RecordingInvalidator { SetsSequence = false };
        IntervalSubscription s = space.Subscribe(0, 10, inv);
        ulong seq = s.ReadBegin();
        using (space.BeginInvalidation(new InvalidationRange(0, 10)))
        {
            Assert.Equal(seq, s.ReadBegin()); // s != S: no wait, even though a bracket is open
            Assert.False(s.ReadRetry(seq));
        }

        Assert.Equal(1, inv.Count);
    }

    [Fact]
    public void ReadBegin_WhileItsSubscriptionIsBeingInvalidated_WaitsUntilTheLastEnd()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope first = space.BeginInvalidation(new InvalidationRange(0, 10));
        InvalidationScope second = space.BeginInvalidation(new InvalidationRange(0, 10));

        Task<ulong> reader = Waiting.OnThread(s.ReadBegin);
        Waiting.AssertBlocked(reader, "ReadBegin during an invalidation of its subscription");
        first.Dispose();
        Waiting.AssertBlocked(reader, "ReadBegin while one invalidation is still active");
        second.Dispose();
        ulong seq = Waiting.Completes(reader, "ReadBegin after the last end");

        Assert.Equal(3UL, seq); // the value it saw; S has moved on, but s has not
        Assert.Equal(4UL, space.Sequence);
        Assert.False(s.ReadRetry(seq));
    }

    [Fact]
    public void ReadBegin_WhileOnlyUnrelatedRangesAreInvalidated_DoesNotWait()
    {
        using var space = new AddressSpace();
        IntervalSubscription mine = space.Subscribe(0, 10, new RecordingInvalidator());
        space.Subscribe(100, 10, new RecordingInvalidator());
        using (space.BeginInvalidation(new InvalidationRange(100, 110)))
        {
            Assert.Equal(3UL, space.Sequence);
            ulong seq = Waiting.Completes(Waiting.OnThread(mine.ReadBegin), "ReadBegin of an unrelated subscription");
            Assert.Equal(1UL, seq);
            Assert.Equal(1UL, mine.ReadBegin()); // even on the invalidating thread: no wait, no throw
        }
    }

    [Fact]
    public void ReadBegin_FromInsideACallback_WhenItWouldWait_Throws()
    {
        var space = new AddressSpace(); // disposed on success only: after a broken detection a thread stays blocked in it, and teardown would wait for it
        Exception? thrown = null;
        ulong otherSeq = 0;
        IntervalSubscription? other = null;
        space.Subscribe(0, 10, new RecordingInvalidator(onInvalidate: (sub, _, _) =>
        {
            otherSeq = other!.ReadBegin(); // not being invalidated: fine
            thrown = Record.Exception(() => sub.ReadBegin());
            return true;
        }));
        other = space.Subscribe(1000, 10, new RecordingInvalidator());

        // On a thread of its own: a detection that broke makes the callback wait for its own
        // invalidation, and this test then fails after the patience instead of hanging the run.
        Waiting.Completes(Waiting.OnThread(() => space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose()), "the invalidation");
        Assert.IsType<InvalidOperationException>(thrown);
        Assert.Equal(1UL, otherSeq);
        Assert.Equal(0, space.ActiveInvalidations);
        space.Dispose();
    }

    [Fact]
    public void ReadBegin_ByAThreadHoldingAnOpenBracket_WhenItWouldWait_Throws()
    {
        var space = new AddressSpace(); // disposed on success only: after a broken detection a thread stays blocked in it, and teardown would wait for it
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope other = default;
        Waiting.Completes(Waiting.OnThread(() => // bounded: a broken detection fails after the patience
        {
            using (space.BeginInvalidation(new InvalidationRange(200, 300))) // hits nothing
            {
                other = Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0, 10))), "other begin");

                // Another thread is invalidating s, and this thread holds a bracket: waiting
                // would need this thread's own end.
                Assert.Throws<InvalidOperationException>(() => s.ReadBegin());
            }
        }), "the reader holding a bracket");
        other.Dispose();
        space.Dispose();
    }

    [Fact]
    public void SetSequence_WithAValueThatIsNotARunningInvalidationsSequence_Throws_AndChangesNothing()
    {
        using var space = new AddressSpace();
        Exception? wrongInCallback = null;
        IntervalSubscription? s = null;
        s = space.Subscribe(0, 10, new RecordingInvalidator(onInvalidate: (sub, _, current) =>
        {
            wrongInCallback = Record.Exception(() => sub.SetSequence(current + 2)); // odd, but not this invalidation's
            return true;
        }));
        ulong before = s.ReadBegin();

        Assert.Throws<InvalidOperationException>(() => s.SetSequence(12345)); // a stray call outside any callback
        Assert.Throws<InvalidOperationException>(() => s.SetSequence(space.Sequence)); // S itself, but even: nothing runs
        Assert.Throws<InvalidOperationException>(() => s.SetSequence(space.Sequence + 1)); // the next odd value, before it runs
        Assert.Equal(before, s.ReadBegin()); // nothing changed: no stray value can make a copy look valid
        Assert.False(s.ReadRetry(before));

        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.IsType<InvalidOperationException>(wrongInCallback);
        Assert.True(s.ReadRetry(before)); // the callback's own value was recorded
    }

    [Fact]
    public void Callbacks_RunWithoutTheAddressSpaceLock()
    {
        // If the lock were held during the walk, another thread's subscribe would block, and the
        // callback waiting for it would deadlock (bounded here by the wait's timeout).
        using var space = new AddressSpace();
        bool otherThreadCompleted = false;
        space.Subscribe(0, 10, new RecordingInvalidator(onInvalidate: (_, range, _) =>
        {
            if (range.Event == InvalidationEvent.Release)
            {
                return true;
            }

            Task other = Waiting.OnThread(() =>
            {
                space.Subscribe(500, 1, new RecordingInvalidator());
                _ = space.GetSubscriptions();
            });
            otherThreadCompleted = other.Wait(Waiting.Patience, TestContext.Current.CancellationToken);
            return true;
        }));

        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.True(otherThreadCompleted);
        Assert.Equal(2, space.SubscriptionCount);
    }

    [Fact]
    [Trait("Found", "review")]
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
}
