namespace IntervalNotifier.Tests.Teardown;

/// <summary>
/// docs/contract.md §7: teardown completes whatever happens, and a second <c>Dispose</c> does nothing
/// more — but it does not return before the first one's teardown has finished.
/// </summary>
[Trait("Found", "design review")]
public sealed class ConcurrentTeardownTests
{
    /// <summary>A callback that allocates nothing (so that the teardown's own allocations can be measured).</summary>
    private sealed class Counting : IIntervalInvalidator
    {
        public int Calls;

        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
        {
            Calls++;
            return true;
        }
    }

    /// <summary>Starts a Dispose on its own thread and returns once its release callback is held until <paramref name="finishRelease"/> is set.</summary>
    private static Task DisposeHeldInRelease(AddressSpace space, ManualResetEventSlim finishRelease)
    {
        using var inRelease = new ManualResetEventSlim();
        space.Subscribe(0, 10, new RecordingInvalidator(onInvalidate: (_, r, _) =>
        {
            if (r.Event == InvalidationEvent.Release)
            {
                inRelease.Set();
                Assert.True(Waiting.For(finishRelease));
            }

            return true;
        }));

        Task dispose = Waiting.OnThread(space.Dispose);
        Assert.True(Waiting.For(inRelease));
        return dispose;
    }

    [Fact]
    public void Dispose_WhileAnotherDisposeIsTearingDown_WaitsForThatTeardown()
    {
        var space = new AddressSpace();
        using var finishRelease = new ManualResetEventSlim();
        Task first = DisposeHeldInRelease(space, finishRelease);
        Task second = Waiting.OnThread(space.Dispose);
        Waiting.AssertBlocked(second, "the second Dispose");
        Assert.Equal(1, space.ActiveInvalidations);
        finishRelease.Set();
        Waiting.Completes(first, "the first Dispose");
        Waiting.Completes(second, "the second Dispose");
        Assert.Equal(0, space.ActiveInvalidations);
    }

    // A DisposeAsync after the teardown has finished completes at once, whichever form tore the
    // space down; two that arrive while it runs both complete when it has finished.
    [Fact]
    [Trait("Found", "mutation testing")]
    public async Task DisposeAsync_AfterTheTeardown_CompletesAtOnce_AndEveryConcurrentOneWhenItEnds()
    {
        var done = new AddressSpace();
        done.Dispose();
        await done.DisposeAsync().AsTask().WaitAsync(Waiting.Patience, TestContext.Current.CancellationToken);

        var space = new AddressSpace();
        using var finishRelease = new ManualResetEventSlim();
        Task first = DisposeHeldInRelease(space, finishRelease);
        Task second = Task.Run(async () => await space.DisposeAsync(), TestContext.Current.CancellationToken);
        Task third = Task.Run(async () => await space.DisposeAsync(), TestContext.Current.CancellationToken);
        Waiting.AssertBlocked(second, "the second DisposeAsync");
        Waiting.AssertBlocked(third, "the third DisposeAsync");
        finishRelease.Set();
        Waiting.Completes(first, "the first Dispose");
        Waiting.Completes(second, "the second DisposeAsync");
        Waiting.Completes(third, "the third DisposeAsync");
        await space.DisposeAsync().AsTask().WaitAsync(Waiting.Patience, TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Dispose_FromInsideAReleaseCallback_ReturnsAtOnce()
    {
        var space = new AddressSpace();
        Exception? inner = new InvalidOperationException("not called");
        space.Subscribe(0, 10, new RecordingInvalidator(onInvalidate: (_, r, _) =>
        {
            if (r.Event == InvalidationEvent.Release)
            {
                inner = Record.Exception(space.Dispose); // the teardown is this very call: nothing to wait for
            }

            return true;
        }));

        Waiting.Completes(Waiting.OnThread(space.Dispose), "Dispose");
        Assert.Null(inner);
    }

    // Nothing in the teardown allocates once its bracket is open (nor before): an allocation
    // failure there could leave the release bracket open forever and strand every waiter. The
    // release walk includes inserts still deferred by another open bracket.
    [Fact]
    public void Dispose_WithDeferredInserts_AllocatesNothing()
    {
        var space = new AddressSpace();
        var counting = new Counting();
        space.Subscribe(0, 10, counting);
        InvalidationScope other = Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0, 10))), "other begin");
        IntervalSubscription deferred = space.Subscribe(5, 10, counting);
        using (space.BeginInvalidation(new InvalidationRange(50, 60))) // warm: the thread's fast bracket …
        {
            space.BeginInvalidation(new InvalidationRange(70, 80)).Dispose(); // … and a free registry bracket (a nested begin takes the slow path), which the release uses
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        space.Dispose();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(3, counting.Calls); // the other begin, then release: the member and the deferred insert
        Waiting.Completes(Waiting.OnThread(other.Dispose), "other end");
        Assert.True(deferred.IsSubscribed);
    }
}
