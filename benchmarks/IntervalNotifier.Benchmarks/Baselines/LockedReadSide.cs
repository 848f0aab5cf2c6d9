namespace IntervalNotifier.Benchmarks.Baselines;

/// <summary>
/// B6's baseline: the sequence protocol's read side as the kernel does it, with
/// <c>read_begin</c> under the address space's lock (its spinlock). The same fields as the
/// library (a global S, a subscription's s), the same check, one lock that the invalidations of
/// unrelated ranges take too.
/// </summary>
public sealed class LockedReadSide
{
    private readonly object _lock = new();
    private ulong _sequence = 2;
    private readonly ulong _subscriptionSequence = 1; // s: nothing invalidates this subscription here

    /// <summary>read_begin under the lock: s, unless the subscription is being invalidated (never here).</summary>
    public ulong ReadBegin()
    {
        lock (_lock)
        {
            ulong seq = _subscriptionSequence;
            if (seq == _sequence)
            {
                throw new InvalidOperationException("unexpected: the subscription is never invalidated here");
            }

            return seq;
        }
    }

    /// <summary>read_retry: s changed since read_begin.</summary>
    public bool ReadRetry(ulong sequence) => _subscriptionSequence != sequence;

    /// <summary>Begin + end of an invalidation that hits another subscription: S odd, then even, under the lock.</summary>
    public void InvalidateUnrelated()
    {
        lock (_lock)
        {
            _sequence |= 1;
        }

        lock (_lock)
        {
            _sequence++;
        }
    }
}
