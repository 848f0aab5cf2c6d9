using System.Collections.Immutable;
using System.Diagnostics;

namespace IntervalNotifier;

// Teardown (docs/contract.md §7) and snapshots of the registered subscriptions.
public sealed partial class AddressSpace
{
    /// <summary>
    /// Tears the address space down (kernel: <c>release</c>): one blockable
    /// <see cref="InvalidationEvent.Release"/> invalidation over the whole space
    /// <c>[0, 2^64 - 1]</c> (start pass, finish pass, end), so every remaining subscription —
    /// including inserts still deferred by other open brackets — is invalidated once.
    /// Subscriptions stay registered (unsubscribing them is the owner's duty, and still works);
    /// subscribing and beginning invalidations afterwards throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    /// <exception cref="Exception">
    /// A callback threw: the teardown was completed all the same, then the exception (or an
    /// <see cref="AggregateException"/>) is rethrown.
    /// </exception>
    /// <remarks>
    /// A second call does nothing more, but does not return before the first call's teardown
    /// has finished (unless it comes from inside that teardown's own callbacks: then it returns
    /// at once). Allocates nothing in steady state (a bracket only when none was ever freed).
    /// </remarks>
    public void Dispose()
    {
        lock (_sync)
        {
            AssertInvariants();
            if (_teardown != Teardown.None)
            {
                while (_teardown == Teardown.Running && !IsInsideTeardownLocked())
                {
                    _waiters.WaitForPulse();
                }

                return;
            }

            BeginTeardownLocked();
        }

        try
        {
            InvalidationRange everything = InvalidationRange.Inclusive(0, ulong.MaxValue, InvalidationEvent.Release);
            Invalidate(in everything, release: true, out InvalidationScope scope);
            scope.Dispose();
        }
        finally
        {
            EndTeardown();
        }
    }

    /// <summary>
    /// Tears the address space down like <see cref="Dispose"/>, awaiting asynchronous finishes
    /// (<see cref="IAsyncTwoPassIntervalInvalidator.InvalidateFinishAsync"/>) instead of blocking
    /// on them: the release invalidation runs through <see cref="BeginInvalidationAsync"/>'s path.
    /// </summary>
    /// <returns>A task that completes when the teardown is done; it faults with what the callbacks threw, once the teardown was completed all the same.</returns>
    /// <remarks>
    /// A second call (of either form) does nothing more, but does not complete before the first
    /// call's teardown has finished (unless it comes from inside that teardown's own callbacks).
    /// </remarks>
    public async ValueTask DisposeAsync()
    {
        Task? first = null;
        lock (_sync)
        {
            AssertInvariants();
            if (_teardown != Teardown.None)
            {
                if (_teardown == Teardown.Done || IsInsideTeardownLocked())
                {
                    return;
                }

                first = (_teardownDone ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            else
            {
                BeginTeardownLocked();
            }
        }

        if (first is not null)
        {
            await first.ConfigureAwait(false);
            return;
        }

        try
        {
            InvalidationScope scope = await InvalidateAsync(InvalidationRange.Inclusive(0, ulong.MaxValue, InvalidationEvent.Release), release: true).ConfigureAwait(false);
            scope.Dispose();
        }
        finally
        {
            EndTeardown();
        }
    }

    // Under the lock: the teardown starts. The gate closes for good: every later begin takes the
    // slow path, which throws.
    private void BeginTeardownLocked()
    {
        _teardown = Teardown.Running;
        SetGateLocked();
    }

    // Under the lock: the caller runs inside the release invalidation itself (its begin's
    // thread, or an asynchronous finish's flow): waiting for the teardown would wait for itself.
    private bool IsInsideTeardownLocked() =>
        _teardownBracket is { } bracket && bracket.Generation == _teardownGeneration && Internal.BracketRegistry.IsInside(bracket);

    private void EndTeardown()
    {
        TaskCompletionSource? done;
        lock (_sync)
        {
            _teardown = Teardown.Done;
            _teardownBracket = null;
            _waiters.PulseBlockedThreads();
            done = _teardownDone;
        }

        done?.TrySetResult(); // after the lock: continuations run asynchronously, and never meet it held
    }

    /// <summary>
    /// A consistent copy of the live subscriptions (including inserts still deferred, excluding
    /// those being unsubscribed), in walk order: ascending start, earlier subscribed first among
    /// equal starts. For tools and debugger views; allocates.
    /// </summary>
    /// <returns>The snapshot.</returns>
    public ImmutableArray<IntervalSubscription> GetSubscriptions()
    {
        lock (_sync)
        {
            AssertInvariants();
            return SnapshotLocked();
        }
    }

    /// <summary>
    /// The live subscriptions for a debugger, read without the lock (the debugger stops every
    /// thread, and a view must not deadlock on a lock a stopped thread holds): the tree in
    /// order, then the deferred inserts. A structure caught mid-change gives a partial list.
    /// </summary>
    internal IntervalSubscription[] SubscriptionsForDebugger()
    {
        var result = new List<IntervalSubscription>();
        try
        {
            foreach (IntervalSubscription s in _tree)
            {
                if (s.State == SubscriptionState.Subscribed)
                {
                    result.Add(s);
                }
            }

            for (IntervalSubscription? s = _deferred.FirstForDebugger; s is not null && result.Count <= _tree.Count + SubscriptionCount; s = Internal.DeferredChanges.Next(s))
            {
                if (s.State is SubscriptionState.PendingInsert or SubscriptionState.PendingInsertWalked)
                {
                    result.Add(s);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Caught mid-change: show what was read.
        }

        return [.. result];
    }

    // The tree in order, without pending removals, merged with the deferred inserts. Deferred
    // inserts were all subscribed after every subscription now in the tree (they exist only while
    // S is odd, and every subscribe is deferred then), so among equal starts the tree's come
    // first; among themselves they keep their order.
    private ImmutableArray<IntervalSubscription> SnapshotLocked()
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        var inserts = new List<IntervalSubscription>();
        for (IntervalSubscription? s = _deferred.First; s is not null; s = Internal.DeferredChanges.Next(s))
        {
            if (s.State is SubscriptionState.PendingInsert or SubscriptionState.PendingInsertWalked)
            {
                inserts.Add(s);
            }
        }

        IntervalSubscription[] ordered = [.. inserts.OrderBy(s => s.Start)];
        ImmutableArray<IntervalSubscription>.Builder result = ImmutableArray.CreateBuilder<IntervalSubscription>(_subscriptionCount);
        int next = 0;
        foreach (IntervalSubscription s in _tree)
        {
            if (s.State != SubscriptionState.Subscribed)
            {
                continue; // a pending removal
            }

            while (next < ordered.Length && ordered[next].Start < s.Start)
            {
                result.Add(ordered[next++]);
            }

            result.Add(s);
        }

        result.AddRange(ordered.AsSpan(next));
        return result.DrainToImmutable();
    }
}
