using IntervalNotifier.Diagnostics;

namespace IntervalNotifier.Tests.NonBlockable;

/// <summary>docs/contract.md §4: non-blockable invalidations.</summary>
public sealed class NonBlockableTests
{
    private static InvalidationRange NonBlockable(ulong start, ulong end) => new(start, end);

    [Fact]
    public void TryBegin_WhenNoCallbackRefuses_Succeeds_AndTheScopeEndsIt()
    {
        using var space = new AddressSpace();
        var inv = new RecordingInvalidator();
        space.Subscribe(0, 10, inv);
        Assert.True(space.TryBeginInvalidation(NonBlockable(0, 10), out InvalidationScope scope));
        Assert.Equal(1, space.ActiveInvalidations);
        Assert.False(Assert.Single(inv.Calls).Range.Blockable);
        scope.Dispose();
        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(4UL, space.Sequence);
    }

    [Fact]
    public void TryBegin_WhenACallbackRefuses_StopsTheWalk_EndsTheBracket_AndReturnsFalse()
    {
        using var metrics = MetricsRecorder.ForNewSpace();
        using var space = new AddressSpace(metrics.Options);
        var log = new List<string>();
        var a = new RecordingInvalidator("a", log: log);
        var b = new RecordingInvalidator("b", onInvalidate: (_, _, _) => false, log: log);
        var c = new RecordingInvalidator("c", log: log);
        IntervalSubscription sa = space.Subscribe(0, 10, a);
        IntervalSubscription sb = space.Subscribe(10, 10, b);
        IntervalSubscription sc = space.Subscribe(20, 10, c);
        ulong seqC = sc.ReadBegin();

        Assert.False(space.TryBeginInvalidation(NonBlockable(0, 30), out InvalidationScope scope));

        Assert.Equal(["a", "b"], log);          // visited before the refusal, then stopped
        Assert.Equal(0, c.Count);               // skipped
        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(4UL, space.Sequence);      // went odd, and even again
        Assert.Equal(3UL, sa.Sequence);         // side effect: visited subscriptions' s changed
        Assert.False(sc.ReadRetry(seqC));       // the skipped one is untouched
        var misuse = Assert.Throws<InvalidOperationException>(scope.Dispose); // must not end a failed begin
        Assert.Contains("holds no invalidation", misuse.Message, StringComparison.Ordinal); // the scope is default, not an ended bracket
        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(1, metrics[NotifierMetrics.WouldBlockFailures]);
        _ = sb;
    }

    [Fact]
    public void TryBegin_AfterAFailure_CanBeRetried()
    {
        using var space = new AddressSpace();
        bool busy = true;
        var inv = new RecordingInvalidator(onInvalidate: (_, _, _) => !busy);
        space.Subscribe(0, 10, inv);
        Assert.False(space.TryBeginInvalidation(NonBlockable(0, 10), out _));
        busy = false;
        Assert.True(space.TryBeginInvalidation(NonBlockable(0, 10), out InvalidationScope scope));
        scope.Dispose();
        Assert.Equal(2, inv.Count);
    }

    [Fact]
    public void TryBegin_Failure_EndsOnlyItsOwnBracket_AndWaitersWakeAtTheLastEnd()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        space.Subscribe(20, 10, new RecordingInvalidator(onInvalidate: (_, _, _) => false));
        Task<ulong> reader;
        using (space.BeginInvalidation(new InvalidationRange(0, 10)))
        {
            reader = Waiting.OnThread(s.ReadBegin);
            Waiting.AssertBlocked(reader, "reader");
            Task<bool> failing = Waiting.OnThread(() => space.TryBeginInvalidation(NonBlockable(0, 30), out _));
            Assert.False(Waiting.Completes(failing, "failing begin"));
            Assert.Equal(1, space.ActiveInvalidations);
            Assert.Equal(3UL, space.Sequence);
            Waiting.AssertBlocked(reader, "reader while the first invalidation is open");
        }

        Waiting.Completes(reader, "reader after the last end");
        Assert.Equal(0, space.ActiveInvalidations);
    }

    [Fact]
    public void TryBegin_Failure_WakesWaitersWhenItWasTheOnlyInvalidation()
    {
        using var space = new AddressSpace();
        var gate = new ManualResetEventSlim();
        var entered = new ManualResetEventSlim();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        space.Subscribe(20, 10, new RecordingInvalidator(onInvalidate: (_, _, _) =>
        {
            entered.Set();
            Waiting.For(gate);
            return false;
        }));

        Task<bool> failing = Waiting.OnThread(() => space.TryBeginInvalidation(NonBlockable(0, 30), out _));
        Assert.True(Waiting.For(entered));
        Task<ulong> reader = Waiting.OnThread(s.ReadBegin); // s == S: waits for the failing bracket
        Waiting.AssertBlocked(reader, "reader during the failing invalidation");
        gate.Set();
        Assert.False(Waiting.Completes(failing, "failing begin"));
        Waiting.Completes(reader, "reader after the failed begin ended its bracket");
        Assert.Equal(4UL, space.Sequence);
    }

    [Fact]
    public void BlockableCallbackReturningFalse_IsCounted_AndTheWalkGoesOn()
    {
        using var metrics = MetricsRecorder.ForNewSpace();
        using var space = new AddressSpace(metrics.Options);
        var log = new List<string>();
        space.Subscribe(0, 10, new RecordingInvalidator("a", onInvalidate: (_, _, _) => false, log: log));
        space.Subscribe(10, 10, new RecordingInvalidator("b", log: log));

        using (space.BeginInvalidation(new InvalidationRange(0, 20)))
        {
            Assert.Equal(["a", "b"], log);
        }

        Assert.Equal(1, metrics[NotifierMetrics.BlockableRefusals]);
        Assert.Equal(0, metrics[NotifierMetrics.WouldBlockFailures]);
    }

    [Fact]
    public void TheBeginDecidesBlockable_TheSameRangeReachesCallbacksAsEachBeginSays()
    {
        using var space = new AddressSpace();
        var inv = new RecordingInvalidator();
        space.Subscribe(0, 10, inv);
        var range = new InvalidationRange(0, 1);
        Assert.True(range.Blockable); // what a caller builds reads blockable
        space.BeginInvalidation(range).Dispose();
        Assert.True(space.TryBeginInvalidation(range, out InvalidationScope scope)); // no mismatch to reject
        scope.Dispose();
        Assert.Equal([true, false], inv.Calls.Select(c => c.Range.Blockable));
        Assert.Equal(range with { }, inv.Calls[0].Range);
        Assert.Equal(0, space.ActiveInvalidations);
    }
}
