using IntervalNotifier.Internal;

namespace IntervalNotifier;

// The read side's slow paths (docs/contract.md §3). The fast path — read s, then S, lock-free —
// is IntervalSubscription.ReadBegin; it comes here only when s == S, i.e. when the subscription
// is being invalidated right now, and then waits (outside the lock) until S changes.
public sealed partial class AddressSpace
{
    /// <summary>ReadBegin when s == S was seen: check again under the lock, and wait.</summary>
    internal ulong ReadBeginSlow(IntervalSubscription subscription)
    {
        ulong sequence;
        long started;
        lock (_sync)
        {
            AssertInvariants();
            if (!TryPinPeriodOfLocked(subscription, out sequence))
            {
                return sequence;
            }

            if (_brackets.IsHeldByCaller())
            {
                throw SelfWait(nameof(IntervalSubscription.ReadBegin));
            }

            started = _metrics.WaitStarted();
            while (_sequence == sequence)
            {
                _waiters.WaitForPulse();
            }
        }

        _metrics.RecordWait("read_begin");
        _metrics.RecordWaitEnded(started, "read_begin");
        return sequence;
    }

    /// <summary>ReadBeginAsync when s == S was seen: check again under the lock, and queue a waiter.</summary>
    internal ValueTask<ulong> ReadBeginSlowAsync(IntervalSubscription subscription, CancellationToken cancellationToken)
    {
        AsyncWaiter waiter;
        lock (_sync)
        {
            AssertInvariants();
            if (!TryPinPeriodOfLocked(subscription, out ulong sequence))
            {
                return new ValueTask<ulong>(sequence);
            }

            if (_brackets.IsHeldByCaller())
            {
                throw SelfWait(nameof(IntervalSubscription.ReadBeginAsync));
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled<ulong>(cancellationToken);
            }

            waiter = _waiters.Enqueue(unsubscribing: null, result: sequence, "read_begin", cancellationToken);
        }

        _metrics.RecordWait("read_begin");
        return new ValueTask<ulong>(waiter, waiter.Version);
    }

    // Under the lock: s == S (the subscription is being invalidated in the running odd period),
    // and that period is pinned, so that its last end takes this lock and wakes the wait (true);
    // or s != S, and `sequence` is s to return (false). Pinned first, then s and S read: S may
    // become odd between a pin that found it even and the reads (a fast begin that hits), so an
    // unpinned s == S looks again.
    private bool TryPinPeriodOfLocked(IntervalSubscription subscription, out ulong sequence)
    {
        while (true)
        {
            bool pinned = PinOddLocked();
            sequence = Volatile.Read(ref subscription._sequence);
            if (sequence != Volatile.Read(ref _sequence))
            {
                return false;
            }

            if (pinned || (Planted & PlantedBugs.ReaderIgnoresPin) != 0)
            {
                return true;
            }
        }
    }

    /// <summary>Whether the calling thread (or asynchronous flow) holds an open bracket of this address space: a wait for the running invalidations would wait for itself.</summary>
    /// <returns><see langword="true"/> if it does.</returns>
    internal bool CallerHoldsBracket()
    {
        lock (_sync)
        {
            return _brackets.IsHeldByCaller();
        }
    }
}
