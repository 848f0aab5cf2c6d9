using System.Diagnostics;

namespace IntervalNotifier.Internal;

/// <summary>
/// Where an address space's waiters wait for the last end of the current odd period (the
/// kernel's one wait queue, woken all at once): threads in <see cref="Monitor.Wait(object)"/> on
/// the lock, and queued <see cref="AsyncWaiter"/>s, recycled through a small pool.
/// </summary>
/// <remarks>
/// Guarded by the address space's lock: every member but <see cref="Complete"/> and
/// <see cref="Recycle"/> asserts that the caller holds it. Completing waiters happens after the
/// lock is dropped, so that woken code never meets it held.
/// </remarks>
internal sealed class WaiterQueue(object sync, AddressSpace space)
{
    /// <summary>Recycled waiters kept at most; more are left to the garbage collector.</summary>
    internal const int PoolLimit = 64;

    private IntrusiveList<AsyncWaiter> _queued;
    private IntrusiveList<AsyncWaiter> _pool;
    private int _blockedThreads;

    /// <summary>The number of queued asynchronous waiters.</summary>
    public int QueuedCount
    {
        get
        {
            Debug.Assert(Monitor.IsEntered(sync));
            return _queued.Count;
        }
    }

    /// <summary>
    /// Blocks the calling thread until the next <see cref="WakeAll"/> or <see cref="PulseBlockedThreads"/>
    /// (or a spurious wake-up): callers re-check their condition in a loop. Releases the lock while it waits.
    /// </summary>
    public void WaitForPulse()
    {
        Debug.Assert(Monitor.IsEntered(sync));
        _blockedThreads++;
        try
        {
            Monitor.Wait(sync);
        }
        finally
        {
            _blockedThreads--;
        }
    }

    /// <summary>Wakes the blocked threads (if any) to re-check their condition.</summary>
    public void PulseBlockedThreads()
    {
        Debug.Assert(Monitor.IsEntered(sync));
        if (_blockedThreads != 0)
        {
            Monitor.PulseAll(sync);
        }
    }

    /// <summary>
    /// Queues an asynchronous waiter and registers its cancellation (whose callback may run at
    /// once, on this thread, and then finds the lock already held: it is reentrant).
    /// </summary>
    /// <param name="unsubscribing">The subscription whose queued removal a cancellation takes back, or <see langword="null"/>.</param>
    /// <param name="result">The value the wait completes with.</param>
    /// <param name="what">What waits, for the metrics (<c>read_begin</c> or <c>unsubscribe</c>).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The queued waiter.</returns>
    public AsyncWaiter Enqueue(IntervalSubscription? unsubscribing, ulong result, string what, CancellationToken cancellationToken)
    {
        Debug.Assert(Monitor.IsEntered(sync));
        AsyncWaiter waiter = _pool.TakeFirst() ?? new AsyncWaiter(this);
        waiter.Prepare(unsubscribing, result, what, space.Metrics.WaitStarted());
        _queued.AddLast(waiter);
        waiter.RegisterCancellation(cancellationToken);
        return waiter;
    }

    /// <summary>
    /// The last end of an odd period: wakes the blocked threads and detaches every queued waiter,
    /// for <see cref="Complete"/> to complete once the lock is dropped.
    /// </summary>
    /// <returns>The detached waiters, as a chain.</returns>
    public AsyncWaiter? WakeAll()
    {
        Debug.Assert(Monitor.IsEntered(sync));
        PulseBlockedThreads();
        return _queued.DetachAll();
    }

    /// <summary>Completes the waiters of <see cref="WakeAll"/>; outside the lock.</summary>
    /// <param name="woken">The chain.</param>
    public void Complete(AsyncWaiter? woken)
    {
        while (IntrusiveList<AsyncWaiter>.TakeFromChain(ref woken) is { } waiter)
        {
            space.Metrics.RecordWaitEnded(waiter.StartedAt, waiter.What);
            waiter.SetWoken(); // its link is cleared first: once completed, it may be recycled at once
        }
    }

    /// <summary>Takes a waiter out of the queue if it is still there (not woken yet).</summary>
    /// <param name="waiter">The waiter.</param>
    /// <returns><see langword="true"/> if it was queued: the caller completes it as cancelled.</returns>
    public bool TryRemove(AsyncWaiter waiter)
    {
        Debug.Assert(Monitor.IsEntered(sync));
        if (!_queued.Contains(waiter))
        {
            return false; // woken already: the wait completes normally
        }

        _queued.Remove(waiter);
        return true;
    }

    /// <summary>The cancellation callback of a waiter (any thread; may run inside <see cref="Enqueue"/>).</summary>
    internal void OnCancellation(AsyncWaiter waiter, CancellationToken cancellationToken) => space.CancelWait(waiter, cancellationToken);

    /// <summary>Takes back a waiter whose result has been read; any thread.</summary>
    internal void Recycle(AsyncWaiter waiter)
    {
        waiter.ResetForReuse();
        lock (sync)
        {
            if (_pool.Count < PoolLimit)
            {
                _pool.AddFirst(waiter);
            }
        }
    }

    /// <summary>What is wrong with the lists, or <see langword="null"/>.</summary>
    /// <returns>A description of the first broken invariant.</returns>
    public string? Check()
    {
        Debug.Assert(Monitor.IsEntered(sync));
        return _queued.Check() ?? _pool.Check();
    }
}
