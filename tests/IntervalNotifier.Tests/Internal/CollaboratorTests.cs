using IntervalNotifier.Internal;

namespace IntervalNotifier.Tests.Internal;

/// <summary>The address space's collaborators, each on its own: brackets, deferred changes, waiters.</summary>
public sealed class CollaboratorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void BracketRegistry_ClosedBracketsAreReused_WithANewGeneration_AndOwnershipIsPerThread()
    {
        object sync = new();
        using var space = new AddressSpace();
        var registry = new BracketRegistry(sync, space);
        lock (sync)
        {
            Bracket first = registry.Open(isAsync: false);
            ulong generation = first.Generation;
            Assert.Equal(1, registry.OpenCount);
            Assert.True(registry.IsHeldByCaller());
            registry.Close(first);
            Assert.Equal(0, registry.OpenCount);
            Assert.False(registry.IsHeldByCaller());

            Bracket again = registry.Open(isAsync: false);
            Assert.Same(first, again);
            Assert.NotEqual(generation, again.Generation);
            Assert.Null(registry.Check());
        }

        bool heldElsewhere = Waiting.Completes(Waiting.OnThread(() =>
        {
            lock (sync)
            {
                return registry.IsHeldByCaller();
            }
        }), "the other thread");
        Assert.False(heldElsewhere);
    }

    [Fact]
    public void DeferredChanges_AreFirstInFirstOut_AndEachSubscriptionIsOnTheListOnce()
    {
        object sync = new();
        using var space = new AddressSpace();
        var deferred = new DeferredChanges(sync);
        IntervalSubscription a = space.Subscribe(0, 1, new RecordingInvalidator());
        IntervalSubscription b = space.Subscribe(1, 1, new RecordingInvalidator());
        lock (sync)
        {
            Assert.True(deferred.IsEmpty);
            deferred.Add(a);
            deferred.Add(b);
            deferred.Add(a); // already deferred: stays where it is
            Assert.Same(a, deferred.First);
            Assert.Same(b, deferred.Last);
            Assert.Same(b, DeferredChanges.Next(a));
            Assert.Null(deferred.Check());
            Assert.Same(a, deferred.TakeFirst());
            Assert.Same(b, deferred.TakeFirst());
            Assert.Null(deferred.TakeFirst());
            Assert.True(deferred.IsEmpty);
        }
    }

    [Fact]
    public async Task WaiterQueue_WakeAll_CompletesEveryWaiterWithItsResult_AndRecyclesThemAfterTheirResultIsRead()
    {
        object sync = new();
        using var space = new AddressSpace();
        var queue = new WaiterQueue(sync, space);
        AsyncWaiter first, second;
        lock (sync)
        {
            first = queue.Enqueue(unsubscribing: null, result: 7, "read_begin", Ct);
            second = queue.Enqueue(unsubscribing: null, result: 9, "read_begin", Ct);
            Assert.Equal(2, queue.QueuedCount);
        }

        var a = new ValueTask<ulong>(first, first.Version);
        var b = new ValueTask<ulong>(second, second.Version);
        Assert.False(a.IsCompleted);
        AsyncWaiter? woken;
        lock (sync)
        {
            woken = queue.WakeAll();
            Assert.Equal(0, queue.QueuedCount);
        }

        queue.Complete(woken);
        Assert.Equal(7UL, await a);
        Assert.Equal(9UL, await b);

        lock (sync)
        {
            // Both went back to the pool once read: the next waits reuse them, with new tokens.
            AsyncWaiter reused = queue.Enqueue(unsubscribing: null, result: 1, "read_begin", Ct);
            Assert.True(ReferenceEquals(reused, first) || ReferenceEquals(reused, second));
            Assert.True(queue.TryRemove(reused));
            Assert.False(queue.TryRemove(reused));
            Assert.Null(queue.Check());
        }
    }

    [Fact]
    public async Task AsyncWaiter_AStaleValueTaskOfARecycledWaiter_Throws_AndAPendingOneCannotBeReadEarly()
    {
        object sync = new();
        using var space = new AddressSpace();
        var queue = new WaiterQueue(sync, space);
        AsyncWaiter waiter;
        lock (sync)
        {
            waiter = queue.Enqueue(unsubscribing: null, result: 3, "read_begin", Ct);
        }

        var pending = new ValueTask<ulong>(waiter, waiter.Version);
        Assert.Throws<InvalidOperationException>(() => pending.GetAwaiter().GetResult()); // not completed: nothing recycled
        AsyncWaiter? woken;
        lock (sync)
        {
            Assert.Equal(1, queue.QueuedCount);
            woken = queue.WakeAll();
        }

        queue.Complete(woken);
        Assert.Equal(3UL, await pending);
        Assert.Throws<InvalidOperationException>(() => pending.GetAwaiter().GetResult()); // stale: the waiter was recycled
    }
}
