namespace IntervalNotifier;

/// <summary>
/// The callbacks of a single-pass subscription (kernel: <c>struct mmu_interval_notifier_ops</c>,
/// <c>invalidate</c>).
/// </summary>
public interface IIntervalInvalidator
{
    /// <summary>
    /// Called during the walk of an invalidation whose range overlaps <paramref name="subscription"/>
    /// (kernel: <c>ops-&gt;invalidate</c>). Under the mirror's own lock, the implementation calls
    /// <see cref="IntervalSubscription.SetSequence"/> with <paramref name="currentSequence"/> and tears
    /// down its copy of the range; when the event does not concern it (say, its own migration,
    /// see <see cref="InvalidationRange.Owner"/>) it may do neither, and must then hold no copy to tear down.
    /// </summary>
    /// <param name="subscription">The subscription hit.</param>
    /// <param name="range">The range being invalidated; it may extend beyond the subscription.</param>
    /// <param name="currentSequence">The address space's sequence for this invalidation (always odd).</param>
    /// <returns>
    /// <see langword="true"/> when done. <see langword="false"/> only when <paramref name="range"/>
    /// is not <see cref="InvalidationRange.Blockable"/> and the work would have to wait: the walk
    /// stops and <see cref="AddressSpace.TryBeginInvalidation"/> fails. Returning
    /// <see langword="false"/> for a blockable range is a bug; it is counted and the walk goes on.
    /// </returns>
    /// <remarks>
    /// Runs on the invalidating thread without the address space's lock. It must not call
    /// <see cref="IntervalSubscription.Unsubscribe"/> or <see cref="IntervalSubscription.ReadBegin"/>
    /// where they would wait (they throw <see cref="InvalidOperationException"/> instead of deadlocking);
    /// subscribing is allowed (the insert is deferred). An exception is delivered to the invalidator
    /// after every other callback has run.
    /// </remarks>
    bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence);
}
