namespace IntervalNotifier;

/// <summary>
/// The callbacks of a two-pass subscription (kernel: <c>ops-&gt;invalidate_start</c> and
/// <c>ops-&gt;invalidate_finish</c>): the <em>start</em> pass starts slow work (a device TLB
/// flush, a context preemption) and the <em>finish</em> pass waits for it. With N devices one
/// pass costs the sum of their latencies; two passes cost about the largest, because every
/// device starts before any is waited on. "Two-pass" never means calling one operation twice.
/// </summary>
/// <remarks>
/// <para>
/// During a walk the address space calls <see cref="InvalidateStart"/> on a two-pass
/// subscriber, never <see cref="IIntervalInvalidator.Invalidate"/>. <c>Invalidate</c> is
/// implemented here (both passes back to back), so that a two-pass invalidator fits wherever a
/// single-pass one does without writing it.
/// </para>
/// <para>
/// Falling back to single-pass is the subscriber's job, not the core's: when it cannot get a
/// record (its <see cref="FinishRecordPool{T}"/> is empty) or has nothing left to wait for, it
/// finishes its work inside <see cref="InvalidateStart"/> and returns no record; the core then
/// calls nothing else for this subscription in this invalidation.
/// </para>
/// </remarks>
public interface ITwoPassIntervalInvalidator : IIntervalInvalidator
{
    /// <summary>
    /// The start pass (kernel: <c>invalidate_start</c>): does what
    /// <see cref="IIntervalInvalidator.Invalidate"/> does — set the sequence and tear down the
    /// copy, under the mirror's lock — but may only <em>start</em> the slow part and describe
    /// what is left in a <paramref name="finish"/> record.
    /// </summary>
    /// <param name="subscription">The subscription hit.</param>
    /// <param name="range">The range being invalidated.</param>
    /// <param name="currentSequence">The address space's sequence for this invalidation (always odd).</param>
    /// <param name="finish">
    /// On entry the caller's variable holds <see langword="null"/> — never a stale record of an
    /// earlier call (the kernel likewise passes NULL); <c>out</c> makes the method assign it. On
    /// return: a record describing the work left for <see cref="InvalidateFinish"/>, or
    /// <see langword="null"/> when all the work was done here (the single-pass fallback: the
    /// core calls nothing else for this subscription in this invalidation). Each call needs its
    /// own record: this method may run in several invalidations at once. A record must not be
    /// returned together with <see langword="false"/> (the core then returns it to its pool
    /// unfinished and throws <see cref="InvalidOperationException"/> once the invalidation is cleaned up).
    /// </param>
    /// <returns>As for <see cref="IIntervalInvalidator.Invalidate"/>: <see langword="false"/> only when a non-blockable range would have to wait.</returns>
    bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range,
                         ulong currentSequence, out FinishRecord? finish);

    /// <summary>
    /// The finish pass (kernel: <c>invalidate_finish</c>): completes the work that
    /// <see cref="InvalidateStart"/> started, usually by waiting for it. Called exactly once per
    /// returned record, after every start call of the invalidation, in start (walk) order, and
    /// before the begin returns.
    /// </summary>
    /// <param name="finish">
    /// The record, and nothing else: a record that needs the range, the sequence or the
    /// blockable flag must have stored them. <see cref="FinishRecord.Subscription"/> is set. The
    /// core is done with the record before this call (the subscriber may reuse an embedded
    /// record from here on); a pooled record goes back to its pool when this call returns, also
    /// when it throws.
    /// </param>
    /// <remarks>Reports no error; an exception is delivered to the invalidator after every other finish has run.</remarks>
    void InvalidateFinish(FinishRecord finish);

    /// <summary>
    /// Both passes back to back, for callers that want one pass (the core never calls this on a
    /// two-pass subscriber during a walk): <see cref="InvalidateStart"/>, then
    /// <see cref="InvalidateFinish"/> on the record it returned, if any; a pooled record then goes
    /// back to its pool, also when the finish throws.
    /// </summary>
    /// <param name="subscription">The subscription hit.</param>
    /// <param name="range">The range being invalidated.</param>
    /// <param name="currentSequence">The sequence of the running invalidation.</param>
    /// <returns>What <see cref="InvalidateStart"/> returned.</returns>
    /// <exception cref="InvalidOperationException">The start pass returned a record together with <see langword="false"/> (the record went back to its pool unfinished), or a record that is held elsewhere.</exception>
    bool IIntervalInvalidator.Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
    {
        bool done = InvalidateStart(subscription, in range, currentSequence, out FinishRecord? finish);
        if (finish is not null)
        {
            FinishRecord.FinishAlone(this, subscription, finish, done);
        }

        return done;
    }
}
