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
            PinOddLocked(); // while S is odd, its last end then needs this lock: the wait below cannot miss it
            sequence = Volatile.Read(ref subscription._sequence);
            if (sequence != _sequence)
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
            PinOddLocked(); // while S is odd, its last end then needs this lock and completes the waiter queued below
            ulong sequence = Volatile.Read(ref subscription._sequence);
            if (sequence != _sequence)
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
