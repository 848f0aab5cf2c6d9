using System.Diagnostics;
using System.Runtime.CompilerServices;
using IntervalNotifier.Internal;

namespace IntervalNotifier;

// Subscribe and unsubscribe while walks may run (docs/contract.md §5). The tree must not change
// while a walk may be running over it, which is whenever S is odd: then changes are deferred
// to the last end. The three subscribe cases, the unsubscribe cases, the revert of a cancelled
// unsubscribe and what the last end applies are tables below, one per operation.
public sealed partial class AddressSpace
{
    /// <summary>
    /// Subscribes <paramref name="invalidator"/> to the closed range
    /// <c>[start, start + length - 1]</c> (kernel: <c>mmu_interval_notifier_insert</c>).
    /// </summary>
    /// <param name="start">The first address.</param>
    /// <param name="length">The number of addresses; at least 1, and the range must not pass <c>2^64 - 1</c> (use <see cref="SubscribeInclusive"/> to cover the whole space).</param>
    /// <param name="invalidator">The callbacks; an <see cref="ITwoPassIntervalInvalidator"/> gets two-pass invalidation.</param>
    /// <returns>The subscription. Its <see cref="IntervalSubscription.ReadBegin"/> returns at once unless invalidations are running (then the new range is assumed to be inside them).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="invalidator"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is 0, or <c>start + length - 1</c> overflows 64 bits.</exception>
    /// <exception cref="ObjectDisposedException">The address space has been released.</exception>
    /// <remarks>Never waits. Allowed from inside a callback (the insert is then deferred).</remarks>
    public IntervalSubscription Subscribe(ulong start, ulong length, IIntervalInvalidator invalidator)
    {
        if (length == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "A subscription must cover at least one address.");
        }

        if (length - 1 > ulong.MaxValue - start)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"start + length - 1 overflows 64 bits (start = {start}). Use SubscribeInclusive to reach 2^64 - 1.");
        }

        ArgumentNullException.ThrowIfNull(invalidator);
        return SubscribeCore(start, start + (length - 1), invalidator);
    }

    /// <summary>Subscribes <paramref name="invalidator"/> to the closed range <c>[start, last]</c>, which may be the whole space <c>[0, 2^64 - 1]</c> (a model addition).</summary>
    /// <param name="start">The first address.</param>
    /// <param name="last">The last address, inclusive; not less than <paramref name="start"/>.</param>
    /// <param name="invalidator">The callbacks.</param>
    /// <returns>The subscription.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="invalidator"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="last"/> is less than <paramref name="start"/>.</exception>
    /// <exception cref="ObjectDisposedException">The address space has been released.</exception>
    public IntervalSubscription SubscribeInclusive(ulong start, ulong last, IIntervalInvalidator invalidator)
    {
        if (last < start)
        {
            throw new ArgumentOutOfRangeException(nameof(last), last, $"last must not be less than start ({start}).");
        }

        ArgumentNullException.ThrowIfNull(invalidator);
        return SubscribeCore(start, last, invalidator);
    }

    //  subscribe                  S even                            S odd
    //  no bracket open            insert now, s = S - 1             (impossible: S is odd only while brackets are open)
    //  brackets open              insert now, S |= 1, s = S         defer the insert, s = S
    //
    // s = S - 1 is odd and differs from S, so ReadBegin returns at once. s = S makes ReadBegin
    // wait for the running invalidations: the new range must be assumed to be inside them.
    // Open brackets that hit nothing run no walk, so the tree may change — and S becomes odd so
    // that they count as invalidating the new range.
    private IntervalSubscription SubscribeCore(ulong start, ulong last, IIntervalInvalidator invalidator)
    {
        var subscription = new IntervalSubscription(this, start, last, invalidator);
        bool deferred = false;
        lock (_sync)
        {
            AssertInvariants();
            ObjectDisposedException.ThrowIf(_teardown != Teardown.None, this);

            using (PinOrCloseGateLocked(mayChangeTree: true, out bool odd))
            {
                if (odd)
                {
                    subscription._sequence = _sequence;
                    subscription.State = SubscriptionState.PendingInsert;
                    _deferred.Add(subscription);
                    deferred = true;
                }
                else
                {
                    _tree.Insert(subscription);
                    subscription._sequence = MakeOddIfActiveLocked() ? _sequence : _sequence - 1;
                }

                Volatile.Write(ref _subscriptionCount, _subscriptionCount + 1);
            }
        }

        if (deferred)
        {
            _metrics.RecordDeferred("insert");
        }

        return subscription;
    }

    /// <summary>What <see cref="BeginRemovalLocked"/> did.</summary>
    private enum Removal
    {
        /// <summary>Out for good: removed now, dropped while deferred, or already (non-strict only).</summary>
        Done,

        /// <summary>The removal is queued; wait for the last end (S changes then).</summary>
        Queued,

        /// <summary>Someone else's removal is queued; wait for it too (non-strict only).</summary>
        WaitForOther,

        /// <summary>It would have to wait, but the token is cancelled: nothing changed.</summary>
        Cancelled,
    }

    /// <summary>Unsubscribes; see <see cref="IntervalSubscription.Unsubscribe"/> (strict) and <see cref="IntervalSubscription.Dispose"/>.</summary>
    internal void Unsubscribe(IntervalSubscription subscription, bool strict)
    {
        bool queued = false;
        bool waited = false;
        long started = 0;
        lock (_sync)
        {
            AssertInvariants();
            Removal removal = BeginRemovalLocked(subscription, strict, nameof(IntervalSubscription.Unsubscribe), cancellationRequested: false);
            while (removal is Removal.Queued or Removal.WaitForOther)
            {
                queued |= removal == Removal.Queued;
                if (!waited)
                {
                    started = _metrics.WaitStarted();
                }

                waited = true;
                ulong sequence = _sequence;
                while (_sequence == sequence)
                {
                    _waiters.WaitForPulse();
                }

                // Our own queued removal has been applied now: nobody can take it back. Someone
                // else's may have been cancelled (and a new odd period may have begun): leave
                // only once the subscription is out for good, else look again.
                removal = subscription.State == SubscriptionState.Unsubscribed
                    ? Removal.Done
                    : BeginRemovalLocked(subscription, strict: false, nameof(IntervalSubscription.Unsubscribe), cancellationRequested: false);
            }
        }

        // Metrics after the lock, failure-safe: a listener is user code.
        if (queued)
        {
            _metrics.RecordDeferred("remove");
        }

        if (waited)
        {
            _metrics.RecordWait("unsubscribe");
            _metrics.RecordWaitEnded(started, "unsubscribe");
        }
    }

    /// <summary>Unsubscribes without ever waiting; see <see cref="IntervalSubscription.UnsubscribeDeferred"/>.</summary>
    internal void UnsubscribeDeferred(IntervalSubscription subscription)
    {
        Removal removal;
        lock (_sync)
        {
            AssertInvariants();
            subscription.RemovalDeferred = true;
            removal = BeginRemovalLocked(subscription, strict: false, nameof(IntervalSubscription.UnsubscribeDeferred), cancellationRequested: false, mayWait: false);
        }

        if (removal == Removal.Queued)
        {
            _metrics.RecordDeferred("remove");
        }
    }

    /// <summary>Unsubscribes without blocking; see <see cref="IntervalSubscription.UnsubscribeAsync"/>.</summary>
    internal ValueTask UnsubscribeAsync(IntervalSubscription subscription, CancellationToken cancellationToken)
    {
        AsyncWaiter waiter;
        lock (_sync)
        {
            AssertInvariants();
            switch (BeginRemovalLocked(subscription, strict: true, nameof(IntervalSubscription.UnsubscribeAsync), cancellationToken.IsCancellationRequested))
            {
                case Removal.Cancelled:
                    return ValueTask.FromCanceled(cancellationToken);
                case Removal.Queued:
                    waiter = _waiters.Enqueue(subscription, result: 0, "unsubscribe", cancellationToken);
                    break;
                case Removal.WaitForOther: // a removal queued by UnsubscribeDeferred: wait for it, take nothing back
                    waiter = _waiters.Enqueue(unsubscribing: null, result: 0, "unsubscribe", cancellationToken);
                    _metrics.RecordWait("unsubscribe");
                    return new ValueTask(waiter, waiter.Version);
                default:
                    return ValueTask.CompletedTask;
            }
        }

        _metrics.RecordDeferred("remove");
        _metrics.RecordWait("unsubscribe");
        return new ValueTask(waiter, waiter.Version);
    }

    /// <summary>Unsubscribes without blocking, non-strictly; see <see cref="IntervalSubscription.DisposeAsync"/>.</summary>
    /// <remarks>
    /// Not an async method: its first look runs in the call, so that a misuse (a self-wait) throws
    /// from the call itself (contract §5) — a synchronous callback that drops the returned task
    /// must not turn it into a silent no-op. Only a removal that must wait goes on asynchronously.
    /// </remarks>
    internal ValueTask DisposeSubscriptionAsync(IntervalSubscription subscription) =>
        BeginDisposeRemoval(subscription) is { } waiter ? DisposeSubscriptionSlowAsync(subscription, waiter) : ValueTask.CompletedTask;

    // Waits for the removal the first look queued (or found under way); our own queued removal is
    // applied then, but someone else's may have been cancelled (and a new odd period begun): look
    // again, as the synchronous Dispose does.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask DisposeSubscriptionSlowAsync(IntervalSubscription subscription, AsyncWaiter waiter)
    {
        AsyncWaiter? next = waiter;
        while (next is not null)
        {
            await new ValueTask(next, next.Version).ConfigureAwait(false);
            next = BeginDisposeRemoval(subscription);
        }
    }

    // One look of DisposeAsync: removes, or queues the removal (or finds one under way) and
    // returns the waiter to await; null when the subscription is out for good.
    private AsyncWaiter? BeginDisposeRemoval(IntervalSubscription subscription)
    {
        AsyncWaiter waiter;
        Removal removal;
        lock (_sync)
        {
            AssertInvariants();
            removal = BeginRemovalLocked(subscription, strict: false, nameof(IntervalSubscription.DisposeAsync), cancellationRequested: false);
            if (removal == Removal.Done)
            {
                return null;
            }

            waiter = _waiters.Enqueue(unsubscribing: null, result: 0, "unsubscribe", CancellationToken.None);
        }

        if (removal == Removal.Queued)
        {
            _metrics.RecordDeferred("remove");
        }

        _metrics.RecordWait("unsubscribe");
        return waiter;
    }

    //  unsubscribe                S even                S odd (a walk may be running over it)
    //  Subscribed                 remove now            queue the removal, wait         → PendingRemove
    //  PendingInsert              —                     drop the insert (never waits)   → Unsubscribed
    //  PendingInsertWalked        —                     queue the removal, wait         → PendingRemoveWalked
    //  PendingRemove(Walked)      —                     strict: throws; else wait for it
    //  Unsubscribed               strict: throws; else nothing to do
    //
    // A wait is refused — before anything changes — when the calling thread holds an open
    // bracket (it would wait for itself) or the token is already cancelled. UnsubscribeDeferred
    // (mayWait: false) makes the same changes and never waits, so nothing is refused; after it,
    // every unsubscribe is non-strict.
    private Removal BeginRemovalLocked(IntervalSubscription subscription, bool strict, string operation, bool cancellationRequested, bool mayWait = true)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        strict &= !subscription.RemovalDeferred;
        SubscriptionState state = subscription.State;
        bool pending = state is SubscriptionState.PendingRemove or SubscriptionState.PendingRemoveWalked;
        if (state == SubscriptionState.Unsubscribed || (pending && strict))
        {
            return strict
                ? throw new InvalidOperationException(pending ? "The subscription is being unsubscribed already." : "The subscription is already unsubscribed.")
                : Removal.Done;
        }

        // A subscription in the tree may be removed now, and a fast begin may be about to call it.
        using GateScope gate = PinOrCloseGateLocked(mayChangeTree: state == SubscriptionState.Subscribed, out bool odd);
        bool mustWait = state != SubscriptionState.PendingInsert && odd;
        if (mustWait && mayWait)
        {
            if (_brackets.IsHeldByCaller())
            {
                throw SelfWait(operation);
            }

            if (cancellationRequested)
            {
                return Removal.Cancelled;
            }
        }

        if (pending)
        {
            return Removal.WaitForOther;
        }

        Volatile.Write(ref _subscriptionCount, _subscriptionCount - 1);
        if (!mustWait)
        {
            if (state == SubscriptionState.Subscribed)
            {
                _tree.Remove(subscription);
            }

            subscription.State = SubscriptionState.Unsubscribed; // a dropped insert stays on the deferred list, where applying it does nothing
            return Removal.Done;
        }

        subscription.State = state == SubscriptionState.Subscribed ? SubscriptionState.PendingRemove : SubscriptionState.PendingRemoveWalked;
        _deferred.Add(subscription);
        return Removal.Queued;
    }

    //  a cancelled unsubscribe whose removal is still queued takes it back (unless
    //  UnsubscribeDeferred asked for the removal too: that one is never taken back):
    //  PendingRemove              → Subscribed            (stays on the deferred list; applying it does nothing)
    //  PendingRemoveWalked        → PendingInsertWalked   (applied as the insert it was)
    private void RevertRemovalLocked(IntervalSubscription subscription)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        SubscriptionState state = subscription.State;
        if (state is (SubscriptionState.PendingRemove or SubscriptionState.PendingRemoveWalked) && !subscription.RemovalDeferred)
        {
            subscription.State = state == SubscriptionState.PendingRemove ? SubscriptionState.Subscribed : SubscriptionState.PendingInsertWalked;
            Volatile.Write(ref _subscriptionCount, _subscriptionCount + 1);
        }
    }

    //  the last end applies every deferred change, in the order deferred:
    //  PendingInsert(Walked)      insert                  → Subscribed
    //  PendingRemove              remove                  → Unsubscribed
    //  PendingRemoveWalked        (never inserted)        → Unsubscribed
    //  Subscribed, Unsubscribed   a change taken back: nothing
    //
    // FIFO keeps walk order among equal starts equal to subscribe order (the kernel applies
    // deferred changes newest first).
    private void ApplyDeferredLocked()
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        while (_deferred.TakeFirst() is { } subscription)
        {
            switch (subscription.State)
            {
                case SubscriptionState.PendingInsert or SubscriptionState.PendingInsertWalked:
                    _tree.Insert(subscription);
                    subscription.State = SubscriptionState.Subscribed;
                    break;
                case SubscriptionState.PendingRemove:
                    _tree.Remove(subscription);
                    subscription.State = SubscriptionState.Unsubscribed;
                    break;
                case SubscriptionState.PendingRemoveWalked:
                    subscription.State = SubscriptionState.Unsubscribed;
                    break;
            }
        }
    }

    /// <summary>A waiter's token was cancelled (any thread, maybe inside the enqueue): a wait still queued is taken back, with its removal.</summary>
    internal void CancelWait(AsyncWaiter waiter, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            if (!_waiters.TryRemove(waiter))
            {
                return; // woken already: the wait completes normally
            }

            if (waiter.Unsubscribing is { } subscription)
            {
                RevertRemovalLocked(subscription); // a cancelled unsubscribe has no effect
            }
        }

        // After the lock (when not called inside the enqueue): the continuation runs
        // asynchronously anyway, but never finds the lock held.
        waiter.SetCanceled(cancellationToken);
    }

    // Waiting for one's own bracket to end would never end.
    private static InvalidOperationException SelfWait(string operation) => new(
        $"{operation} would wait for the running invalidations of this address space to end, but the calling thread holds one of them open (it is inside a callback, or between a begin and its scope's Dispose), so the wait would never end.");
}
