using System.Diagnostics;
using System.Runtime.CompilerServices;
using IntervalNotifier.Diagnostics;
using IntervalNotifier.Internal;

namespace IntervalNotifier;

// The data path, in the order it runs (docs/contract.md §3, §4, §6): begin → start pass (a
// non-blockable refusal stops it, §4) → claim or reject each record → finish pass → end → the
// last end (S even, deferred changes applied, waiters woken). The release invalidation (§7)
// takes the same path; its walk also visits the inserts still deferred.
public sealed partial class AddressSpace
{
    /// <summary>
    /// Begins a blockable invalidation of <paramref name="range"/> (kernel:
    /// <c>mmu_notifier_invalidate_range_start</c>): every subscription that overlaps it gets its
    /// callback, in ascending start; two-pass subscribers get their start pass, then — after the
    /// walk — their finish pass, in the same order. When this returns, no mirror holds, or will
    /// publish, a copy of the range read before now. Change the primary, then dispose the scope.
    /// </summary>
    /// <param name="range">The range; the callbacks receive it as <see cref="InvalidationRange.Blockable"/>.</param>
    /// <returns>The open bracket; dispose it exactly once, on this thread (kernel: <c>invalidate_range_end</c>).</returns>
    /// <exception cref="ArgumentException"><paramref name="range"/> is <c>default</c> or invalid (see <see cref="InvalidationRange"/>).</exception>
    /// <exception cref="ObjectDisposedException">The address space has been released.</exception>
    /// <exception cref="InvalidOperationException">A start pass returned a finish record together with <see langword="false"/>, or a record that was already held; thrown after the invalidation was completed and ended.</exception>
    /// <exception cref="Exception">
    /// A callback threw: every other callback and finish still ran, the bracket has been ended
    /// by the core (there is no scope to dispose), and the exception — or an
    /// <see cref="AggregateException"/> of all of them — is rethrown.
    /// </exception>
    /// <remarks>
    /// Waits for nothing but the lock and the callbacks. Allocates nothing in steady state
    /// (brackets are recycled; records come from the subscribers).
    /// </remarks>
    public InvalidationScope BeginInvalidation(in InvalidationRange range)
    {
        ValidateRange(in range);
        Invalidate(in range, release: false, out InvalidationScope scope);
        return scope;
    }

    /// <summary>
    /// Begins a non-blockable invalidation of <paramref name="range"/> (kernel:
    /// <c>mmu_notifier_invalidate_range_start_nonblock</c>), for contexts that must not wait.
    /// A callback that would have to wait returns <see langword="false"/>: the walk stops (later
    /// subscriptions are not called), the finish pass runs for the records already collected,
    /// the core ends the bracket, and this returns <see langword="false"/> (kernel: <c>-EAGAIN</c>).
    /// </summary>
    /// <param name="range">The range; the callbacks receive a copy whose <see cref="InvalidationRange.Blockable"/> is <see langword="false"/>.</param>
    /// <param name="scope">On success the open bracket, to dispose exactly once; on failure <c>default</c>, which must not be disposed.</param>
    /// <returns>
    /// <see langword="true"/> on success. <see langword="false"/> when a callback would have had
    /// to wait: then do not change the range; retry later. A failed begin has side effects that
    /// are safe: <see cref="Sequence"/> went odd and even again and the visited subscriptions'
    /// sequences changed, so concurrent readers may wait or retry spuriously.
    /// </returns>
    /// <exception cref="ArgumentException"><paramref name="range"/> is <c>default</c> or invalid (see <see cref="InvalidationRange"/>).</exception>
    /// <exception cref="ObjectDisposedException">The address space has been released.</exception>
    /// <exception cref="InvalidOperationException">A finish record was returned together with <see langword="false"/>, or was already held.</exception>
    /// <exception cref="Exception">A callback threw; as for <see cref="BeginInvalidation"/>.</exception>
    public bool TryBeginInvalidation(in InvalidationRange range, out InvalidationScope scope)
    {
        ValidateRange(in range);
        InvalidationRange nonBlockable = range.AsNonBlockable(); // the begin decides: kernel, range_start_nonblock
        return Invalidate(in nonBlockable, release: false, out scope);
    }

    private static void ValidateRange(in InvalidationRange range)
    {
        if (range.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(range));
        }
    }

    // Begin, both passes, and — when the invalidation failed or threw — the end. Returns false
    // when a non-blockable callback refused (the bracket is ended then).
    private bool Invalidate(in InvalidationRange range, bool release, out InvalidationScope scope)
    {
        if (release || !TryOpenFast(in range, out Bracket? bracket, out ulong generation, out WalkCursor walk, out bool hit, out ulong currentSequence))
        {
            bracket = Open(in range, release, isAsync: false, out generation, out walk, out hit, out currentSequence);
        }

        // The bracket is open. Whatever happens from here on — a callback that throws, or
        // anything else — it is ended before begin fails: an open bracket nobody can end would
        // keep S odd and strand every waiter.
        var errors = default(ExceptionCollector);
        var report = default(WalkReport);
        bool completed = true;
        bool succeeded = false;
        try
        {
            try
            {
                if (hit)
                {
                    // Both passes run without the lock (see the protocol comment): the open
                    // bracket keeps S odd, so the tree cannot change under the walk.
                    try
                    {
                        completed = StartPass(bracket, ref walk, in range, currentSequence, ref errors, ref report);
                    }
                    finally
                    {
                        FinishPass(bracket, ref errors, ref report);
                    }
                }
            }
            catch (Exception unexpected)
            {
                errors.Add(unexpected);
            }

            _metrics.RecordInvalidation(in report, range.Event, completed);
            succeeded = completed && !errors.HasAny;
        }
        finally
        {
            if (!succeeded)
            {
                // The invalidation failed (a non-blockable callback refused) or something threw:
                // the core ends the bracket itself, since the invalidator gets no scope to end.
                End(bracket, generation);
            }
        }

        errors.ThrowIfAny();
        scope = succeeded ? new InvalidationScope(this, bracket, generation) : default;
        return succeeded;
    }

    // Begin, under the lock: open the bracket, find the first hit, make S odd if it hits.
    private Bracket Open(in InvalidationRange range, bool release, bool isAsync, out ulong generation, out WalkCursor walk, out bool hit, out ulong currentSequence)
    {
        lock (_sync)
        {
            AssertInvariants();
            ObjectDisposedException.ThrowIf(_teardown != Teardown.None && !release, this);

            // The only allocation (a bracket when none is free) comes before any change.
            Bracket bracket = _brackets.Open(isAsync);
            bracket.StartedAt = _metrics.InvalidationStarted();
            CountLockedBegin(); // atomic: fast begins and ends change the word without the lock
            if (release)
            {
                _teardownBracket = bracket;
                _teardownGeneration = bracket.Generation;
            }

            generation = bracket.Generation;
            walk = release ? WalkCursor.ForRelease(_tree, _deferred) : new WalkCursor(_tree.Overlapping(range.Start, range.Last));
            hit = walk.MoveNext();
            currentSequence = _sequence;
            if (hit)
            {
                currentSequence = MakeOdd();
                Interlocked.Or(ref _state.Value, OddFlag);
            }

            return bracket;
        }
    }

    // The start pass: every hit subscription, in walk order (the cursor is on the first).
    // Returns false when a non-blockable callback refused: the walk stopped there (§4).
    private static bool StartPass(Bracket bracket, ref WalkCursor walk, in InvalidationRange range, ulong currentSequence,
        ref ExceptionCollector errors, ref WalkReport report)
    {
        do
        {
            if (!Visit(bracket, walk.Current, in range, currentSequence, ref errors, ref report))
            {
                return false;
            }
        }
        while (walk.MoveNext());

        return true;
    }

    // One subscription's single-pass or start-pass callback. Returns false when a
    // non-blockable callback refused.
    private static bool Visit(Bracket bracket, IntervalSubscription subscription, in InvalidationRange range,
        ulong currentSequence, ref ExceptionCollector errors, ref WalkReport report)
    {
        ITwoPassIntervalInvalidator? twoPass = subscription.TwoPass;
        FinishRecord? record = null;
        bool done;
        report.Callbacks++;
        try
        {
            done = twoPass is null
                ? subscription.Invalidator.Invalidate(subscription, in range, currentSequence)
                : twoPass.InvalidateStart(subscription, in range, currentSequence, out record);
            if (twoPass is not null && record is null && done)
            {
                report.Fallbacks++;
            }
        }
        catch (Exception exception)
        {
            // The walk goes on: every overlapping mirror must still be torn down. A record the
            // start pass assigned before it threw describes work it started: it is finished too.
            errors.Add(exception);
            report.Exceptions++;
            done = true;
        }

        if (record is not null)
        {
            if (done)
            {
                ClaimRecord(bracket, subscription, record, ref errors, ref report);
            }
            else
            {
                RejectRecord(bracket, subscription, record, ref errors, ref report);
            }
        }

        if (done)
        {
            return true;
        }

        if (!range.Blockable)
        {
            return false;
        }

        // A blockable callback may not refuse; like the kernel, warn (count) and go on.
        report.Refusals++;
        return true;
    }

    // A record returned with true: claim it for this bracket's finish list. A record already
    // held by anyone (this list, another invalidation's, a return to its pool) is a callback
    // bug; linking it would corrupt the list that holds it, so it is left alone.
    private static void ClaimRecord(Bracket bracket, IntervalSubscription subscription, FinishRecord record,
        ref ExceptionCollector errors, ref WalkReport report)
    {
        long holder = record.ClaimHold(bracket.HoldId);
        if (holder != 0)
        {
            errors.Add(HeldElsewhere(subscription, holder == bracket.HoldId));
            report.Misuses++;
            return;
        }

        // An embedded record keeps its subscription from one invalidation to the next: skip the
        // store (and its write barrier) then. A pool clears it when the record comes back.
        if (!ReferenceEquals(record.Subscription, subscription))
        {
            record.Subscription = subscription;
        }

        bracket.FinishList.Push(record);
    }

    // Out of line, so that the message's formatting does not weigh on every device's visit.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static InvalidOperationException HeldElsewhere(IntervalSubscription subscription, bool byThisInvalidation) => new(byThisInvalidation
        ? $"The start pass of subscription {subscription} returned a finish record that this invalidation already holds (the same record returned twice in one walk)."
        : $"The start pass of subscription {subscription} returned a finish record that is still held elsewhere (in another invalidation's finish list, or on its way back to its pool); each start call needs its own record.");

    // A record returned with false: the kernel drops (leaks) it. Here it is never lost: a
    // pooled record goes back to its pool unfinished — once this bracket has claimed it, so that
    // a record some other list holds is never unlinked behind that list's back — and the
    // invalidator learns of the bug.
    [MethodImpl(MethodImplOptions.NoInlining)] // rare: kept out of every device's visit
    private static void RejectRecord(Bracket bracket, IntervalSubscription subscription, FinishRecord record,
        ref ExceptionCollector errors, ref WalkReport report)
    {
        errors.Add(new InvalidOperationException(
            $"The start pass of subscription {subscription} returned a finish record together with false; a refusing start pass must return no record. The record was not finished."));
        report.Misuses++;
        if (Volatile.Read(ref record._pool) is { } pool && record.ClaimHold(bracket.HoldId) == 0)
        {
            ReturnToPool(pool, record, thread: null, ref errors); // rare: the pool looks the thread up
        }
    }

    // The finish pass: take the bracket's whole finish list and finish each record once, in
    // start order (§6). One protected region serves the whole pass: a finish call (or a pool's
    // reset) that throws is caught, its record still goes back to its pool, and the pass goes on
    // with the next record, so that nothing a callback did to one record can stop the others
    // from being finished.
    private static void FinishPass(Bracket bracket, ref ExceptionCollector errors, ref WalkReport report)
    {
        // An invalidation that met no two-pass record pays no atomic operation here: the take of
        // an empty list is a plain read.
        FinishRecord? next = bracket.FinishList.TakeAllInPushOrder();
        if (next is null)
        {
            return;
        }

        Thread thread = Thread.CurrentThread; // once per pass, for the pool's per-thread cache
        int finished = 0;
        while (next is not null)
        {
            // The record whose finish call is running, and its pool: if the call throws, the
            // record has not gone back yet.
            FinishRecord? finishing = null;
            IFinishRecordPool? finishingPool = null;
            try
            {
                do
                {
                    FinishRecord record = next;
                    ITwoPassIntervalInvalidator twoPass = Detach(record, out next, out IFinishRecordPool? pool).TwoPass!;
                    finished++;
                    finishing = record;
                    finishingPool = pool;
                    twoPass.InvalidateFinish(record);
                    finishing = null;
                    pool?.ReturnFromCore(record, thread); // a reset that throws: the record is back all the same
                }
                while (next is not null);
            }
            catch (Exception exception)
            {
                errors.Add(exception);
                if (finishing is not null)
                {
                    report.Exceptions++; // the finish call threw, not the pool's reset
                    if (finishingPool is not null)
                    {
                        ReturnToPool(finishingPool, finishing, thread, ref errors);
                    }
                }
            }
        }

        report.Finished += finished;
    }

    // Be done with a taken record before its finish is called: read its link and what the finish
    // needs (its subscription, its pool) first; then an embedded record's hold is released, so
    // that the subscriber may reuse it from inside its finish call (and another invalidation may
    // take it at once). A pooled record stays held until its pool has it back, so nothing can
    // link it in between.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static IntervalSubscription Detach(FinishRecord record, out FinishRecord? next, out IFinishRecordPool? pool)
    {
        next = record._next;
        record._next = null;
        IntervalSubscription subscription = record.Subscription!;
        pool = record._pool;
        if (pool is null)
        {
            record.ReleaseHold();
        }

        return subscription;
    }

    // One synchronous finish outside FinishPass (the asynchronous begin's, for a subscriber
    // without an asynchronous finish); a pooled record goes back when it returns, also when it throws.
    private static void FinishOne(ITwoPassIntervalInvalidator twoPass, FinishRecord record, IFinishRecordPool? pool, Thread? thread, ref ExceptionCollector errors, ref WalkReport report)
    {
        try
        {
            twoPass.InvalidateFinish(record);
        }
        catch (Exception exception)
        {
            errors.Add(exception);
            report.Exceptions++;
        }
        finally
        {
            if (pool is not null)
            {
                ReturnToPool(pool, record, thread, ref errors);
            }
        }
    }

    // `thread`: the calling thread, looked up once per pass (the pool then need not ask per record), or null.
    private static void ReturnToPool(IFinishRecordPool pool, FinishRecord record, Thread? thread, ref ExceptionCollector errors)
    {
        try
        {
            pool.ReturnFromCore(record, thread);
        }
        catch (Exception exception)
        {
            errors.Add(exception); // a record's reset threw: it is back all the same
        }
    }

    /// <summary>Ends the bracket; see <see cref="InvalidationScope.Dispose"/>.</summary>
    internal void End(Bracket bracket, ulong generation)
    {
        if (bracket.IsFast)
        {
            EndFast(bracket, generation);
            return;
        }

        AsyncWaiter? woken;
        Thread? owner;
        long startedAt;
        lock (_sync)
        {
            AssertInvariants();
            if (bracket.Generation != generation) // bumped at every end: a scope matches only while its own use is open
            {
                throw AlreadyEnded();
            }

            owner = bracket.IsAsync ? null : bracket.Owner;
            startedAt = bracket.StartedAt;
            _brackets.Close(bracket);
            woken = EndLocked();
        }

        // Completing the waiters runs no continuation inline (they run asynchronously), but it
        // is still done after the lock is dropped, so that woken code never meets it held; so is
        // the metrics listener (user code).
        _waiters.Complete(woken);
        _metrics.RecordInvalidationEnded(startedAt);
        ThrowIfEndedElsewhere(owner);
    }

    private static InvalidOperationException AlreadyEnded() => new(
        "This invalidation has already ended: dispose a scope exactly once, and do not dispose the scope of a failed TryBeginInvalidation (the core ends it).");

    // A synchronous bracket belongs to the thread that began it (self-wait detection relies
    // on that). Ended elsewhere — held across an await, say — it is ended all the same, so
    // that nothing is stranded, and the misuse is reported.
    private static void ThrowIfEndedElsewhere(Thread? owner)
    {
        if (owner is not null && !ReferenceEquals(owner, Thread.CurrentThread))
        {
            throw new InvalidOperationException(
                $"A bracket begun by BeginInvalidation on thread {owner.ManagedThreadId} was ended on thread {Environment.CurrentManagedThreadId}: a synchronous bracket belongs to the thread that began it. It has been ended; to hold a bracket across await, begin it with BeginInvalidationAsync.");
        }
    }
}
