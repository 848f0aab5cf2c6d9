using IntervalNotifier.Diagnostics;

namespace IntervalNotifier.Tests.DotNet;

/// <summary>docs/contract.md §8: throwing callbacks and misuse.</summary>
public sealed class CallbackFailureTests
{
    [Fact]
    public void ThrowingCallback_TheWalkGoesOn_TheBracketIsEnded_AndTheExceptionReachesTheInvalidator()
    {
        using var metrics = MetricsRecorder.ForNewSpace();
        using var space = new AddressSpace(metrics.Options);
        var boom = new InvalidOperationException("boom");
        var log = new List<string>();
        space.Subscribe(0, 10, new RecordingInvalidator("a", log: log));
        space.Subscribe(10, 10, new RecordingInvalidator("b", onInvalidate: (_, r, _) => r.Event == InvalidationEvent.Release ? true : throw boom, log: log));
        space.Subscribe(20, 10, new RecordingInvalidator("c", log: log));

        Exception e = Assert.Throws<InvalidOperationException>(() => space.BeginInvalidation(new InvalidationRange(0, 30)));
        Assert.Same(boom, e);
        Assert.Equal(["a", "b", "c"], log);
        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(4UL, space.Sequence);
        Assert.Equal(1, metrics[NotifierMetrics.CallbackExceptions]);
    }

    [Fact]
    public void SeveralThrowingCallbacks_ReachTheInvalidatorAsOneAggregateException()
    {
        using var space = new AddressSpace();
        var first = new ArgumentException("first");
        var second = new FormatException("second");
        space.Subscribe(0, 10, new RecordingInvalidator(onInvalidate: (_, r, _) => r.Event == InvalidationEvent.Release ? true : throw first));
        space.Subscribe(10, 10, new RecordingInvalidator(onInvalidate: (_, r, _) => r.Event == InvalidationEvent.Release ? true : throw second));

        var e = Assert.Throws<AggregateException>(() => space.BeginInvalidation(new InvalidationRange(0, 30)));
        Assert.Equal([first, second], e.InnerExceptions);
        Assert.Equal(0, space.ActiveInvalidations);
    }

    [Fact]
    public void ThrowingCallback_InANonBlockableBegin_Throws_AndEndsTheBracket()
    {
        using var space = new AddressSpace();
        space.Subscribe(0, 10, new RecordingInvalidator(onInvalidate: (_, r, _) => r.Event == InvalidationEvent.Release ? true : throw new FormatException()));
        Assert.Throws<FormatException>(() => space.TryBeginInvalidation(new InvalidationRange(0, 10), out _));
        Assert.Equal(0, space.ActiveInvalidations);
    }

    [Fact]
    public void ThrowingCallback_AppliesDeferredChanges_AndWakesWaiters()
    {
        using var space = new AddressSpace();
        var entered = new ManualResetEventSlim();
        var proceed = new ManualResetEventSlim();
        IntervalSubscription waitedOn = space.Subscribe(0, 10, new RecordingInvalidator());
        space.Subscribe(10, 10, new RecordingInvalidator(onInvalidate: (_, r, _) =>
        {
            if (r.Event == InvalidationEvent.Release)
            {
                return true;
            }

            entered.Set();
            Waiting.For(proceed);
            throw new FormatException();
        }));
        IntervalSubscription removed = space.Subscribe(200, 10, new RecordingInvalidator());

        Task<Exception?> invalidator = Waiting.OnThread(() => Record.Exception(() => space.BeginInvalidation(new InvalidationRange(0, 20))));
        Assert.True(Waiting.For(entered));
        Task<ulong> reader = Waiting.OnThread(waitedOn.ReadBegin); // its callback has run: s == S
        var late = new RecordingInvalidator();
        space.Subscribe(0, 10, late);                               // deferred
        Task unsubscribe = Waiting.OnThread(removed.Unsubscribe);    // deferred, waits
        Waiting.AssertBlocked(reader, "reader");
        Waiting.AssertBlocked(unsubscribe, "unsubscribe");
        proceed.Set();

        Assert.IsType<FormatException>(Waiting.Completes(invalidator, "invalidator"));
        Waiting.Completes(reader, "reader after the failed invalidation");
        Waiting.Completes(unsubscribe, "unsubscribe after the failed invalidation");
        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(0UL, space.Sequence & 1);
        Assert.DoesNotContain(removed, space.GetSubscriptions());

        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(1, late.Count); // the deferred insert was applied
    }

    [Fact]
    public void ScopeDisposedTwice_Throws_AndDoesNotEndAnotherBracket()
    {
        using var space = new AddressSpace();
        InvalidationScope scope = space.BeginInvalidation(new InvalidationRange(0, 1));
        InvalidationScope copy = scope;
        scope.Dispose();
        InvalidationScope other = space.BeginInvalidation(new InvalidationRange(0, 1)); // may reuse the bracket object
        Assert.Throws<InvalidOperationException>(scope.Dispose);
        Assert.Throws<InvalidOperationException>(copy.Dispose);
        Assert.Equal(1, space.ActiveInvalidations);
        other.Dispose();
        Assert.Equal(0, space.ActiveInvalidations);
    }

    [Fact]
    public void DefaultScope_Dispose_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => default(InvalidationScope).Dispose());
    }

    [Fact]
    public void Unsubscribe_OfASubscriptionOfAnotherSpace_IsImpossible_ButDoubleUnsubscribeThrows()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 1, new RecordingInvalidator());
        s.Unsubscribe();
        Assert.Throws<InvalidOperationException>(s.Unsubscribe);
        Assert.Throws<InvalidOperationException>(() => { _ = s.UnsubscribeAsync(TestContext.Current.CancellationToken).AsTask(); }); // synchronously
    }

    [Fact]
    [Trait("Found", "mutation testing")]
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
    [Trait("Found", "mutation testing")]
    public void ThrowingCallback_InANonBlockableWalk_TheWalkGoesOn()
    {
        using var space = new AddressSpace();
        var after = new RecordingInvalidator();
        space.Subscribe(0, 10, new RecordingInvalidator(onInvalidate: (_, r, _) => r.Event == InvalidationEvent.Release ? true : throw new FormatException()));
        space.Subscribe(5, 10, after);
        Assert.Throws<FormatException>(() => space.TryBeginInvalidation(new InvalidationRange(0, 20), out _));
        Assert.Equal(1, after.Count);
    }
}
