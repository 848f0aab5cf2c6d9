using IntervalNotifier.Tests.Support;

namespace IntervalNotifier.Tests.SequenceProtocol;

/// <summary>
/// The bracket's fast path (AddressSpace.cs, the protocol comment): a thread's own bracket serves
/// one synchronous bracket at a time, in any address space; nested brackets and brackets in a
/// second space take the slow path. Self-wait detection must see both kinds. Each scenario runs
/// on a thread of its own and is bounded: a detection that fails would make the thread wait for
/// itself.
/// </summary>
public sealed class FastPathTests
{
    [Fact]
    public void SelfWait_IsDetected_ForTheThreadsFastBracket_AndForASlowBracketInASecondSpace()
    {
        using var first = new AddressSpace();
        using var second = new AddressSpace();
        IntervalSubscription a = first.Subscribe(0, 10, new RecordingInvalidator());
        IntervalSubscription b = second.Subscribe(0, 10, new RecordingInvalidator());

        Waiting.Completes(Waiting.OnThread(() =>
        {
            using (first.BeginInvalidation(new InvalidationRange(0, 10))) // the thread's fast bracket: S odd, a is being invalidated
            {
                using (second.BeginInvalidation(new InvalidationRange(0, 10))) // the thread's bracket is in use: the slow path
                {
                    Assert.Throws<InvalidOperationException>(() => a.ReadBegin());
                    Assert.Throws<InvalidOperationException>(() => b.ReadBegin());
                    Assert.Throws<InvalidOperationException>(a.Unsubscribe);
                    Assert.Throws<InvalidOperationException>(b.Unsubscribe);
                }

                Assert.Throws<InvalidOperationException>(() => a.ReadBegin());
                Assert.Equal(0, second.ActiveInvalidations);
                Assert.Equal(0UL, second.Sequence & 1);
            }
        }), "the brackets");

        Assert.Equal(0, first.ActiveInvalidations);
        Assert.Equal(0UL, first.Sequence & 1);
        Assert.Equal(a.Sequence, a.ReadBegin());
        a.Unsubscribe();
        b.Unsubscribe();
        Assert.Equal(0, first.SubscriptionCount + second.SubscriptionCount);
    }

    [Fact]
    public void NestedBrackets_InOneSpace_AreCountedAndEndedBothWays()
    {
        using var space = new AddressSpace();
        var counting = new RecordingInvalidator();
        space.Subscribe(0, 10, counting);

        Waiting.Completes(Waiting.OnThread(() =>
        {
            InvalidationScope outer = space.BeginInvalidation(new InvalidationRange(100, 200)); // hits nothing: S stays even
            InvalidationScope inner = space.BeginInvalidation(new InvalidationRange(0, 10)); // nested: the slow path; it hits
            Assert.Equal(2, space.ActiveInvalidations);
            Assert.Equal(1UL, space.Sequence & 1);
            outer.Dispose(); // the fast bracket ends first: not the last, S stays odd
            Assert.Equal(1, space.ActiveInvalidations);
            Assert.Equal(1UL, space.Sequence & 1);
            inner.Dispose(); // the last end of the odd period
            Assert.Throws<InvalidOperationException>(outer.Dispose);
            Assert.Throws<InvalidOperationException>(inner.Dispose);
        }), "the brackets");

        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(0UL, space.Sequence & 1);
        Assert.Single(counting.Calls);
    }

    [Fact]
    public void AFastScopeEndedOnAnotherThread_IsEndedOnce_AndFreesTheOwnersBracket()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        using var begun = new ManualResetEventSlim();
        using var ended = new ManualResetEventSlim();
        using var held = new ManualResetEventSlim();
        InvalidationScope scope = default;
        Task<ulong> owner = Waiting.OnThread(() =>
        {
            scope = space.BeginInvalidation(new InvalidationRange(0, 10));
            begun.Set();
            Assert.True(Waiting.For(ended));
            Assert.True(Waiting.For(held));

            // Another bracket is invalidating s now. Had the cross-thread end left this thread's
            // bracket marked open, ReadBegin would throw (a self-wait); it must wait instead.
            return s.ReadBegin();
        });

        Assert.True(Waiting.For(begun));
        Assert.Throws<InvalidOperationException>(scope.Dispose); // the misuse is reported; the bracket is ended all the same
        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(0UL, space.Sequence & 1);
        Assert.Throws<InvalidOperationException>(scope.Dispose); // and only once
        Assert.Equal(0, space.ActiveInvalidations);
        ended.Set();

        InvalidationScope other = space.BeginAnywhere(new InvalidationRange(0, 10));
        held.Set();
        Waiting.AssertBlocked(owner, "ReadBegin while another bracket invalidates s");
        other.Dispose();
        Assert.Equal(s.Sequence, Waiting.Completes(owner, "ReadBegin after the other bracket ended"));
    }
}
