using System.Diagnostics;
using IntervalNotifier.Diagnostics;
using IntervalNotifier.Internal;

namespace IntervalNotifier;

// The awaitable data path (docs/contract.md §9): begin and start pass synchronously on the
// caller's thread, as §3–§6; then every finish is called in start order — an asynchronous
// subscriber's InvalidateFinishAsync not awaited yet, a synchronous one's InvalidateFinish
// inline — and only then are the pending ones awaited, so that the devices' waits overlap.
public sealed partial class AddressSpace
{
    /// <summary>
    /// Begins a blockable invalidation of <paramref name="range"/> whose finish pass is awaited
    /// instead of blocking a thread per device: the bracket opens and the start pass runs
    /// synchronously on the calling thread, exactly as for <see cref="BeginInvalidation"/>; then
    /// every finish is called in start order — <see cref="IAsyncTwoPassIntervalInvalidator.InvalidateFinishAsync"/>
    /// for asynchronous subscribers (not awaited yet), <see cref="ITwoPassIntervalInvalidator.InvalidateFinish"/>
    /// inline for synchronous ones — and only then are the pending finishes awaited together.
    /// The task completes when every finish has completed: only then does no mirror hold, or
    /// will publish, a copy of the range read before the begin — and only then does the caller
    /// get its scope.
    /// </summary>
    /// <param name="range">The range; the callbacks receive it as <see cref="InvalidationRange.Blockable"/>.</param>
    /// <returns>
    /// The open bracket. It belongs to no thread: dispose it once, on any thread, after the
    /// primary has changed. A callback's exception faults the task (the exception, or an
    /// <see cref="AggregateException"/> of several) after every finish has completed and the core
    /// has ended the bracket; a record returned with <see langword="false"/> or already held
    /// faults it with <see cref="InvalidOperationException"/> the same way.
    /// </returns>
    /// <exception cref="ArgumentException"><paramref name="range"/> is <c>default</c> or invalid (thrown synchronously).</exception>
    /// <exception cref="ObjectDisposedException">The address space has been released (thrown synchronously).</exception>
    /// <remarks>
    /// <para>
    /// No cancellation: an invalidation that has started tearing mirrors down cannot be
    /// abandoned, or a mirror could keep a stale copy.
    /// </para>
    /// <para>
    /// Allocates nothing in steady state when no finish is left pending: the task is then
    /// complete when this returns (the flow of asynchronous finishes is marked for self-wait
    /// detection, which costs an execution context when an asynchronous subscriber is called).
    /// Otherwise its state machine is pooled.
    /// </para>
    /// <para>
    /// Not detected: a flow that holds an asynchronous bracket open and then waits for that
    /// same bracket (an <c>UnsubscribeAsync</c> of a subscription it hit, awaited before the
    /// scope is disposed) waits forever. Dispose the scope first.
    /// </para>
    /// </remarks>
    public ValueTask<InvalidationScope> BeginInvalidationAsync(InvalidationRange range)
    {
        ValidateRange(in range);
        return InvalidateAsync(range, release: false);
    }

    private ValueTask<InvalidationScope> InvalidateAsync(InvalidationRange range, bool release)
    {
        Bracket bracket = Open(in range, release, isAsync: true, out ulong generation, out WalkCursor walk, out bool hit, out ulong currentSequence);
        var errors = default(ExceptionCollector);
        var report = default(WalkReport);
        long started = 0;
        AsyncBegin? pending = null;
        try
        {
            if (hit)
            {
                try
                {
                    _ = StartPass(bracket, ref walk, in range, currentSequence, ref errors, ref report); // blockable: no refusal stops it
                }
                finally
                {
                    started = _metrics.FinishPassStarted();
                    CallFinishes(bracket, ref pending, ref errors, ref report);
                }
            }
        }
        catch (Exception unexpected)
        {
            errors.Add(unexpected);
        }
        finally
        {
            // From here on the bracket belongs to no thread: its scope may be disposed anywhere.
            Volatile.Write(ref bracket.Owner, null);
        }

        if (pending is not null)
        {
            if (!pending.EndCallPhase(bracket, generation, range.Event, started, in errors, in report))
            {
                return new ValueTask<InvalidationScope>(pending, pending.Version); // the last finish to complete concludes
            }

            // Every pending finish completed while later ones were being called.
            pending.TakeOutcome(out _, out _, out _, out _, out errors, out report);
            RecycleAsyncBegin(pending);
        }

        Exception? failure = Conclude(bracket, generation, ref errors, in report, range.Event, started, out InvalidationScope scope);
        return failure is null ? new ValueTask<InvalidationScope>(scope) : ValueTask.FromException<InvalidationScope>(failure);
    }

    // Calls every finish of the bracket's list in start order; an asynchronous one that does
    // not complete at once is watched by the begin's AsyncBegin (rented at the first).
    private void CallFinishes(Bracket bracket, ref AsyncBegin? pending, ref ExceptionCollector errors, ref WalkReport report)
    {
        FinishRecord? next = bracket.FinishList.TakeAllInPushOrder();
        Thread thread = Thread.CurrentThread; // once per pass, for the pool's per-thread cache
        Bracket.FlowMark? outer = null;
        bool marked = false;
        try
        {
            while (next is not null)
            {
                FinishRecord record = next;
                next = null;
                try
                {
                    IntervalSubscription subscription = Detach(record, out next, out IFinishRecordPool? pool);
                    report.Finished++;
                    if (subscription.AsyncTwoPass is not { } asynchronous)
                    {
                        FinishOne(subscription.TwoPass!, record, pool, thread, ref errors, ref report);
                        continue;
                    }

                    if (!marked)
                    {
                        // The finishes' own flows count as inside a callback of this bracket
                        // (their continuations inherit the mark): a wait for it there throws.
                        outer = Bracket.Flow.Value;
                        Bracket.Flow.Value = bracket.MarkFlow();
                        marked = true;
                    }

                    ValueTask finish;
                    try
                    {
                        finish = asynchronous.InvalidateFinishAsync(record);
                    }
                    catch (Exception exception)
                    {
                        finish = ValueTask.FromException(exception);
                    }

                    // A task that cannot be asked (a stale token) or cannot be watched is a device
                    // bug: the finish counts as faulted with it, and its record goes back now.
                    try
                    {
                        if (!finish.IsCompleted)
                        {
                            (pending ??= RentAsyncBegin()).Track(record, pool, finish);
                            continue;
                        }
                    }
                    catch (Exception exception)
                    {
                        finish = ValueTask.FromException(exception);
                    }

                    Complete(finish, record, pool, thread, ref errors, ref report);
                }
                catch (Exception unexpected)
                {
                    errors.Add(unexpected);
                }
            }
        }
        finally
        {
            if (marked)
            {
                Bracket.Flow.Value = outer;
            }
        }
    }

    // A finish that completed at once: its exception is collected, and a pooled record goes
    // back now — never before its finish has completed.
    private static void Complete(ValueTask finish, FinishRecord record, IFinishRecordPool? pool, Thread? thread, ref ExceptionCollector errors, ref WalkReport report)
    {
        try
        {
            finish.GetAwaiter().GetResult();
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

    /// <summary>Every finish has completed: records what happened; on failure ends the bracket and returns what to fault with.</summary>
    internal Exception? Conclude(Bracket bracket, ulong generation, ref ExceptionCollector errors, in WalkReport report, InvalidationEvent @event, long started, out InvalidationScope scope)
    {
        _metrics.RecordInvalidation(in report, @event, completed: true);
        _metrics.RecordFinishPass(started);
        if (!errors.HasAny)
        {
            scope = new InvalidationScope(this, bracket, generation);
            return null;
        }

        scope = default;
        End(bracket, generation);
        return errors.ToException();
    }

    private AsyncBegin RentAsyncBegin()
    {
        AsyncBegin? begin;
        lock (_sync)
        {
            begin = _asyncBegins.TakeFirst();
        }

        begin ??= new AsyncBegin(this);
        begin.Start();
        return begin;
    }

    /// <summary>Takes back an asynchronous begin whose result has been read (any thread).</summary>
    /// <remarks>
    /// Up to <see cref="AsyncBeginPoolLimit"/> are kept, so that a server that keeps up to that
    /// many invalidations in flight makes no new begin object per invalidation once warm.
    /// </remarks>
    internal void RecycleAsyncBegin(AsyncBegin begin)
    {
        begin.ResetForReuse();
        lock (_sync)
        {
            if (_asyncBegins.Count < AsyncBeginPoolLimit)
            {
                _asyncBegins.AddFirst(begin);
            }
        }
    }

    /// <summary>The most finished asynchronous begins kept for reuse; more are left to the garbage collector.</summary>
    internal const int AsyncBeginPoolLimit = 1024;
}
