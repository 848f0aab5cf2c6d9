using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Diagnostics;
using IntervalNotifier.Collections;
using IntervalNotifier.Diagnostics;
using IntervalNotifier.Internal;

namespace IntervalNotifier;

/// <summary>
/// The registry of one address space (kernel: <c>mm</c> with its
/// <c>mmu_notifier_subscriptions</c>): an interval tree of <see cref="IntervalSubscription"/>s,
/// and the brackets with which invalidators change ranges of the primary mapping. Mirrors of
/// the address space (device page tables, caches, shadow memory) subscribe ranges and are told,
/// coherently, whenever an invalidation overlaps them.
/// </summary>
/// <remarks>
/// <para>
/// An invalidator brackets every change of a range:
/// <c>using (space.BeginInvalidation(range)) { change the primary; }</c>. Begin calls every
/// overlapping subscription's callback — and, for two-pass subscribers, every finish after every
/// start — before it returns. Many invalidators may run at once, on any ranges; a thread may nest brackets.
/// </para>
/// <para>
/// Thread-safe. One lock guards the address space; it is held briefly and never while user code
/// runs. <see cref="Dispose"/> tears the address space down (kernel: <c>release</c>).
/// </para>
/// </remarks>
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public sealed class AddressSpace : IDisposable
{
    // ---------------------------------------------------------------------------------------
    // The sequence protocol (semantics.md §3): a seqcount that admits many writers at once.
    //
    // S (_sequence) starts at 2 and is even while no invalidation that hit a subscription is
    // running. The first begin that finds an overlapping subscription makes it odd (S |= 1); it
    // stays odd until the count of active brackets (_active) returns to zero, and that last end
    // makes it even again (S++). Each subscription has its own s; s == S means "being
    // invalidated right now". Values wrap; only equality is ever compared.
    //
    //   invalidator                              mirror (fault path)
    //   ----------------------------------       ------------------------------------------
    //   begin:  lock; active++; first hit?       seq = ReadBegin()   // s; if s == S wait
    //           S |= 1; cur = S; unlock                              // until S changes
    //   walk:   per hit, under mirror lock:      read the primary (no mirror lock)
    //             s = cur; tear down copy
    //   (finish pass for two-pass subscribers)   lock mirror
    //   ...change the primary...                 if ReadRetry(seq) (s != seq): unlock, redo
    //   end:    lock; active--; if 0 and odd:    publish the copy
    //             S++; apply deferred; unlock;   unlock mirror
    //             wake every waiter
    //
    // Why it works: the callback sets s under the mirror's lock before it tears the copy down,
    // and the mirror publishes under the same lock only if s still equals what ReadBegin saw.
    // So either the publish came first (and the teardown removes it) or ReadRetry sees the
    // new s. A fault that calls ReadBegin after the callback sees s == S and waits until the
    // invalidations end, i.e. until the primary has changed.
    //
    // The walk runs without the lock: while this bracket is open and S is odd, the tree cannot
    // change, because every subscribe and unsubscribe that could touch it is deferred (§5) to
    // the last end. A subscribe while brackets are active but S is even (they hit nothing, no
    // walk runs) inserts at once and makes S odd, so later walks stay safe.
    //
    // The read side is lock-free (a model addition; the kernel reads under its spinlock):
    // ReadBegin reads s, then S, both with acquire semantics. Reading s first matters: s only
    // ever takes values S had while odd, and S's odd values never repeat (modulo 2^64), so
    // s == S means that period is still running, and s != S means either no invalidation of
    // this subscription is running or its callback has not yet set s — and then s will change,
    // which ReadRetry catches. Reading S first would allow: S read (even), then an invalidation
    // sets s = S' — returned as a "valid" sequence that ReadRetry would never flag.
    //
    // Waiting: every wait (ReadBegin on a subscription being invalidated; an unsubscribe that
    // must be deferred) ends exactly at the last end of the current odd period. Synchronous
    // waiters wait on _sync with Monitor; asynchronous ones queue an AsyncWaiter that the last
    // end completes after dropping the lock.
    // ---------------------------------------------------------------------------------------

    internal const ulong InitialSequence = 2;

    private readonly object _sync = new();
    private readonly IntervalTree<IntervalSubscription> _tree = new();
    private readonly string? _name;
    private readonly KeyValuePair<string, object?> _metricTag;

    private ulong _sequence = InitialSequence;
    private int _active;
    private int _subscriptionCount;
    private bool _released;

    private IntervalSubscription? _deferredHead;
    private IntervalSubscription? _deferredTail;
    private Invalidation? _openBrackets;
    private Invalidation? _freeBrackets;
    private int _syncWaiters;
    private AsyncWaiter? _asyncWaiters;
    private int _asyncWaiterCount;

    /// <summary>Creates an empty address space.</summary>
    /// <param name="options">Options; <see langword="null"/> for the defaults.</param>
    public AddressSpace(AddressSpaceOptions? options = null)
        : this(options, InitialSequence)
    {
    }

    /// <summary>For tests: starts the sequence elsewhere (even), e.g. just below the wrap.</summary>
    internal AddressSpace(AddressSpaceOptions? options, ulong initialSequence)
    {
        Debug.Assert((initialSequence & 1) == 0);
        _sequence = initialSequence;
        _name = options?.Name;
        _metricTag = new KeyValuePair<string, object?>(NotifierMetrics.AddressSpaceTag, _name);
    }

    /// <summary>The address space's sequence <c>S</c>, for diagnostics: even while idle, odd while invalidations that hit a subscription run.</summary>
    public ulong Sequence => Volatile.Read(ref _sequence);

    /// <summary>The number of open brackets (begun and not yet ended).</summary>
    public int ActiveInvalidations => Volatile.Read(ref _active);

    /// <summary>The number of live subscriptions: subscribed (including inserts still deferred) and not yet unsubscribed.</summary>
    public int SubscriptionCount => Volatile.Read(ref _subscriptionCount);

    /// <summary>The name given in <see cref="AddressSpaceOptions.Name"/>.</summary>
    public string? Name => _name;

    /// <summary>Asynchronous waiters currently registered; for tests.</summary>
    internal int AsyncWaiterCount
    {
        get
        {
            lock (_sync)
            {
                return _asyncWaiterCount;
            }
        }
    }

    internal string DebuggerDisplay =>
        $"{(_name is null ? "" : _name + ": ")}Sequence = {Sequence}, Active = {ActiveInvalidations}, Subscriptions = {SubscriptionCount}{(Volatile.Read(ref _released) ? ", released" : "")}";

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

    private IntervalSubscription SubscribeCore(ulong start, ulong last, IIntervalInvalidator invalidator)
    {
        var subscription = new IntervalSubscription(this, start, last, invalidator);
        bool deferred = false;
        lock (_sync)
        {
            AssertInvariants();
            ObjectDisposedException.ThrowIf(_released, this);

            if (_active == 0)
            {
                // Idle: insert now; s = S - 1 is odd and differs from S, so ReadBegin won't wait.
                _tree.Insert(subscription);
                subscription._sequence = _sequence - 1;
            }
            else if ((_sequence & 1) != 0)
            {
                // A walk may be running over the tree: defer the insert to the last end. s = S,
                // so ReadBegin waits for the running invalidations (the range may be inside them).
                subscription._sequence = _sequence;
                subscription.State = SubscriptionState.PendingInsert;
                AppendDeferred(subscription);
                deferred = true;
            }
            else
            {
                // Brackets are open but hit nothing, so no walk runs: insert now, and make S odd
                // so that the open brackets count as invalidating the new range.
                Volatile.Write(ref _sequence, _sequence | 1);
                _tree.Insert(subscription);
                subscription._sequence = _sequence;
            }

            Volatile.Write(ref _subscriptionCount, _subscriptionCount + 1);
        }

        if (deferred)
        {
            CountDeferred("insert");
        }

        return subscription;
    }

    /// <summary>
    /// Begins a blockable invalidation of <paramref name="range"/> (kernel:
    /// <c>mmu_notifier_invalidate_range_start</c>): every subscription that overlaps it gets its
    /// callback, in ascending start; two-pass subscribers get their start pass, then — after the
    /// walk — their finish pass, in the same order. When this returns, no mirror holds, or will
    /// publish, a copy of the range read before now. Change the primary, then dispose the scope.
    /// </summary>
    /// <param name="range">The range; it must be <see cref="InvalidationRange.Blockable"/>.</param>
    /// <returns>The open bracket; dispose it exactly once (kernel: <c>invalidate_range_end</c>).</returns>
    /// <exception cref="ArgumentException"><paramref name="range"/> is <c>default</c> or invalid (see <see cref="InvalidationRange"/>), or not blockable (use <see cref="TryBeginInvalidation"/>).</exception>
    /// <exception cref="ObjectDisposedException">The address space has been released.</exception>
    /// <exception cref="InvalidOperationException">A start pass returned a finish record together with <see langword="false"/>, or a record that was already linked; thrown after the invalidation was completed and ended.</exception>
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
        ValidateRange(in range, blockable: true);
        return BeginCore(in range, release: false, out _);
    }

    /// <summary>
    /// Begins a non-blockable invalidation of <paramref name="range"/> (kernel:
    /// <c>mmu_notifier_invalidate_range_start_nonblock</c>), for contexts that must not wait.
    /// A callback that would have to wait returns <see langword="false"/>: the walk stops (later
    /// subscriptions are not called), the finish pass runs for the records already collected,
    /// the core ends the bracket, and this returns <see langword="false"/> (kernel: <c>-EAGAIN</c>).
    /// </summary>
    /// <param name="range">The range; its <see cref="InvalidationRange.Blockable"/> must be <see langword="false"/>.</param>
    /// <param name="scope">On success the open bracket, to dispose exactly once; on failure <c>default</c>, which must not be disposed.</param>
    /// <returns>
    /// <see langword="true"/> on success. <see langword="false"/> when a callback would have had
    /// to wait: then do not change the range; retry later. A failed begin has side effects that
    /// are safe: <see cref="Sequence"/> went odd and even again and the visited subscriptions'
    /// sequences changed, so concurrent readers may wait or retry spuriously.
    /// </returns>
    /// <exception cref="ArgumentException"><paramref name="range"/> is <c>default</c> or invalid (see <see cref="InvalidationRange"/>), or blockable (use <see cref="BeginInvalidation"/>).</exception>
    /// <exception cref="ObjectDisposedException">The address space has been released.</exception>
    /// <exception cref="InvalidOperationException">A finish record was returned together with <see langword="false"/>, or was already linked.</exception>
    /// <exception cref="Exception">A callback threw; as for <see cref="BeginInvalidation"/>.</exception>
    public bool TryBeginInvalidation(in InvalidationRange range, out InvalidationScope scope)
    {
        ValidateRange(in range, blockable: false);
        scope = BeginCore(in range, release: false, out bool refused);
        return !refused;
    }

    private static void ValidateRange(in InvalidationRange range, bool blockable)
    {
        if (range.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(range));
        }

        if (range.Blockable != blockable)
        {
            throw new ArgumentException(
                blockable
                    ? "BeginInvalidation takes a blockable range; use TryBeginInvalidation for a non-blockable one."
                    : "TryBeginInvalidation takes a non-blockable range (Blockable = false); use BeginInvalidation for a blockable one.",
                nameof(range));
        }
    }

    private InvalidationScope BeginCore(in InvalidationRange range, bool release, out bool refused)
    {
        Invalidation invalidation;
        ulong generation;
        ulong currentSequence;
        IntervalTree<IntervalSubscription>.OverlapEnumerator walk = default;
        IntervalSubscription[]? releaseWalk = null;
        bool hit;
        lock (_sync)
        {
            AssertInvariants();
            ObjectDisposedException.ThrowIf(_released && !release, this);

            invalidation = OpenBracket();
            generation = invalidation.Generation;
            if (release)
            {
                releaseWalk = InWalkOrder(forRelease: true);
                hit = releaseWalk.Length != 0;
            }
            else
            {
                walk = _tree.Overlapping(range.Start, range.Last).GetEnumerator();
                hit = walk.MoveNext();
            }

            if (hit && (_sequence & 1) == 0)
            {
                Volatile.Write(ref _sequence, _sequence | 1);
            }

            currentSequence = _sequence;
        }

        // From here on the bracket is open, and whatever happens — a callback that throws, or
        // anything else that does (a metrics listener, say) — it is ended before begin fails:
        // an open bracket nobody can end would keep S odd and strand every waiter.
        var errors = default(ExceptionCollector);
        var counters = default(WalkCounters);
        bool completed = true;
        try
        {
            if (hit)
            {
                // The walk and the finish pass run without the lock (see the protocol comment):
                // our open bracket keeps S odd, so the tree cannot change under the walk.
                try
                {
                    if (releaseWalk is null)
                    {
                        completed = Walk(invalidation, ref walk, in range, currentSequence, ref errors, ref counters);
                    }
                    else
                    {
                        WalkAll(invalidation, releaseWalk, in range, currentSequence, ref errors, ref counters);
                    }
                }
                finally
                {
                    FinishPass(invalidation, ref errors, ref counters);
                }
            }

            Publish(in counters, range.Event, completed);
        }
        catch (Exception unexpected)
        {
            errors.Add(unexpected);
        }

        refused = false;
        if (completed && !errors.HasAny)
        {
            return new InvalidationScope(invalidation, generation);
        }

        // The invalidation failed (a non-blockable callback refused) or something threw: the
        // core ends the bracket itself, since the invalidator gets no scope to end.
        End(invalidation, generation);
        errors.ThrowIfAny();
        refused = true;
        return default;
    }

    /// <summary>What one invalidation did, for the metrics (published once, after the walk).</summary>
    private struct WalkCounters
    {
        public int Callbacks;
        public int Fallbacks;
        public int Refusals;
        public int Finished;
        public int Misuses;
        public int Exceptions;
    }

    private void Publish(in WalkCounters counters, InvalidationEvent @event, bool completed)
    {
        if (Instruments.Invalidations.Enabled)
        {
            Instruments.Invalidations.Add(1, _metricTag, new(NotifierMetrics.EventTag, Instruments.EventNames[(int)@event]));
        }

        if (counters.Callbacks == 0)
        {
            return;
        }

        Add(Instruments.Callbacks, counters.Callbacks);
        Add(Instruments.Fallbacks, counters.Fallbacks);
        Add(Instruments.BlockableRefusals, counters.Refusals);
        Add(Instruments.FinishRecords, counters.Finished);
        Add(Instruments.RecordMisuses, counters.Misuses);
        Add(Instruments.CallbackExceptions, counters.Exceptions);
        Add(Instruments.WouldBlockFailures, completed ? 0 : 1);

        void Add(System.Diagnostics.Metrics.Counter<long> counter, int value)
        {
            if (value != 0 && counter.Enabled)
            {
                counter.Add(value, _metricTag);
            }
        }
    }

    // The first pass: every overlapping subscription, in walk order. Returns false when a
    // non-blockable callback refused (the walk stopped there).
    private static bool Walk(Invalidation invalidation, ref IntervalTree<IntervalSubscription>.OverlapEnumerator walk,
        in InvalidationRange range, ulong currentSequence, ref ExceptionCollector errors, ref WalkCounters counters)
    {
        do
        {
            if (!Visit(invalidation, walk.Current, in range, currentSequence, ref errors, ref counters))
            {
                return false;
            }
        }
        while (walk.MoveNext());

        return true;
    }

    // The release walk: a snapshot in walk order (see InWalkOrder). Release is blockable, so no
    // callback can stop it.
    private static void WalkAll(Invalidation invalidation, IntervalSubscription[] subscriptions,
        in InvalidationRange range, ulong currentSequence, ref ExceptionCollector errors, ref WalkCounters counters)
    {
        Debug.Assert(range.Blockable);
        foreach (IntervalSubscription subscription in subscriptions)
        {
            _ = Visit(invalidation, subscription, in range, currentSequence, ref errors, ref counters);
        }
    }

    // One subscription's first-pass callback. Returns false when a non-blockable callback refused.
    private static bool Visit(Invalidation invalidation, IntervalSubscription subscription, in InvalidationRange range,
        ulong currentSequence, ref ExceptionCollector errors, ref WalkCounters counters)
    {
        ITwoPassIntervalInvalidator? twoPass = subscription.TwoPass;
        FinishRecord? record = null;
        bool done;
        counters.Callbacks++;
        try
        {
            done = twoPass is null
                ? subscription.Invalidator.Invalidate(subscription, in range, currentSequence)
                : twoPass.InvalidateStart(subscription, in range, currentSequence, out record);
            if (twoPass is not null && record is null && done)
            {
                counters.Fallbacks++;
            }
        }
        catch (Exception exception)
        {
            // The walk goes on: every overlapping mirror must still be torn down. A record the
            // start pass assigned before it threw describes work it started: it is finished too.
            errors.Add(exception);
            counters.Exceptions++;
            done = true;
        }

        if (record is not null)
        {
            if (done)
            {
                PushRecord(invalidation, subscription, record, ref errors, ref counters);
            }
            else
            {
                RejectRecord(subscription, record, ref errors, ref counters);
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
        counters.Refusals++;
        return true;
    }

    private static void PushRecord(Invalidation invalidation, IntervalSubscription subscription, FinishRecord record,
        ref ExceptionCollector errors, ref WalkCounters counters)
    {
        // Claim the record for this invalidation's list. A record already claimed is a callback
        // bug; linking it again would corrupt the list that holds it, so it is left alone.
        object? holder = Interlocked.CompareExchange(ref record._holder, invalidation, null);
        if (holder is not null)
        {
            errors.Add(new InvalidOperationException(ReferenceEquals(holder, invalidation)
                ? $"The start pass of subscription {subscription} returned a finish record that this invalidation already holds (the same record returned twice in one walk)."
                : $"The start pass of subscription {subscription} returned a finish record that is still linked in another invalidation's finish list; each start call needs its own record."));
            counters.Misuses++;
            return;
        }

        record.Subscription = subscription;
        invalidation.FinishList.Push(record);
    }

    private static void RejectRecord(IntervalSubscription subscription, FinishRecord record, ref ExceptionCollector errors, ref WalkCounters counters)
    {
        // The kernel drops (leaks) such a record. Here it is never lost: a pooled record goes
        // back to its pool unfinished, and the invalidator learns of the bug.
        errors.Add(new InvalidOperationException(
            $"The start pass of subscription {subscription} returned a finish record together with false; a refusing start pass must return no record. The record was not finished."));
        counters.Misuses++;
        if (Volatile.Read(ref record._holder) is null && Volatile.Read(ref record._pool) is { } pool)
        {
            try
            {
                pool.ReturnFromCore(record);
            }
            catch (Exception exception)
            {
                errors.Add(exception);
            }
        }
    }

    // The second pass: take the invalidation's whole finish list and finish each record once,
    // in start order.
    private static void FinishPass(Invalidation invalidation, ref ExceptionCollector errors, ref WalkCounters counters)
    {
        FinishRecord? record = invalidation.FinishList.TakeAllInPushOrder();
        while (record is not null)
        {
            // Be done with the record before calling finish: read what we need and the link.
            FinishRecord? next = record._next;
            record._next = null;
            ITwoPassIntervalInvalidator twoPass = record.Subscription!.TwoPass!;
            IFinishRecordPool? pool = record._pool;
            if (pool is null)
            {
                // An embedded record: release the hold now, so that the subscriber may reuse it
                // from inside its finish call (and another invalidation may take it at once).
                Volatile.Write(ref record._holder, null);
            }

            // A pooled record stays held until its pool has it back (the pool releases the hold
            // just before the record becomes rentable), so nothing can link it in between.
            counters.Finished++;
            try
            {
                twoPass.InvalidateFinish(record);
            }
            catch (Exception exception)
            {
                errors.Add(exception);
                counters.Exceptions++;
            }
            finally
            {
                if (pool is not null)
                {
                    try
                    {
                        pool.ReturnFromCore(record);
                    }
                    catch (Exception exception)
                    {
                        errors.Add(exception);
                    }
                }
            }

            record = next;
        }
    }

    /// <summary>Ends the bracket of <paramref name="invalidation"/>; see <see cref="InvalidationScope.Dispose"/>.</summary>
    internal void End(Invalidation invalidation, ulong generation)
    {
        AsyncWaiter? woken;
        lock (_sync)
        {
            AssertInvariants();
            if (invalidation.Generation != generation) // bumped at every end: a scope matches only while its own use is open
            {
                throw new InvalidOperationException(
                    "This invalidation has already ended: dispose a scope exactly once, and do not dispose the scope of a failed TryBeginInvalidation (the core ends it).");
            }

            CloseBracket(invalidation);
            woken = EndLocked();
        }

        // Completing the waiters runs no continuation inline (they run asynchronously), but it
        // is still done after the lock is dropped, so that woken code never meets a held lock.
        CompleteWaiters(woken);
    }

    private AsyncWaiter? EndLocked()
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        int active = _active - 1;
        Volatile.Write(ref _active, active);
        if (active != 0 || (_sequence & 1) == 0)
        {
            return null;
        }

        // The last end of an odd period: S becomes even, the deferred tree changes are applied
        // (no walk can be running now), and every waiter is released.
        Volatile.Write(ref _sequence, _sequence + 1);
        ApplyDeferred();
        if (_syncWaiters != 0)
        {
            Monitor.PulseAll(_sync);
        }

        return DetachAsyncWaiters();
    }

    /// <summary>
    /// Tears the address space down (kernel: <c>release</c>): one blockable
    /// <see cref="InvalidationEvent.Release"/> invalidation over the whole space
    /// <c>[0, 2^64 - 1]</c> (start pass, finish pass, end), so every remaining subscription is
    /// invalidated once. Subscriptions stay registered (unsubscribing them is the owner's duty,
    /// and still works); subscribing and beginning invalidations afterwards throw
    /// <see cref="ObjectDisposedException"/>. A second call does nothing.
    /// </summary>
    /// <exception cref="Exception">
    /// A callback threw: the teardown was completed all the same, then the exception (or an
    /// <see cref="AggregateException"/>) is rethrown.
    /// </exception>
    public void Dispose()
    {
        lock (_sync)
        {
            if (_released)
            {
                return;
            }

            _released = true;
        }

        InvalidationRange everything = InvalidationRange.Inclusive(0, ulong.MaxValue, InvalidationEvent.Release);
        BeginCore(in everything, release: true, out _).Dispose();
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
            return ImmutableCollectionsMarshal.AsImmutableArray(InWalkOrder(forRelease: false));
        }
    }

    // Under the lock: the tree in order merged with the deferred inserts. Deferred inserts were
    // all subscribed after every node now in the tree (they exist only while S is odd, and every
    // subscribe is deferred then), so among equal starts the tree's come first; among
    // themselves they keep their (FIFO) order.
    //
    // For a snapshot: the live subscriptions (removals still pending are left out). For the
    // release walk: every subscription a walk of the whole space sees (the tree, including
    // pending removals, whose callbacks run until the last end) plus the deferred inserts —
    // they are live, and release is the last invalidation they can get. Those are marked, so
    // that unsubscribing one waits for the release walk as it would for a tree member.
    private IntervalSubscription[] InWalkOrder(bool forRelease)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        List<IntervalSubscription>? pending = null;
        for (IntervalSubscription? s = _deferredHead; s is not null; s = s.DeferredNext)
        {
            if (s.State == SubscriptionState.PendingInsert)
            {
                if (forRelease)
                {
                    s.SeenByRelease = true;
                }

                (pending ??= []).Add(s);
            }
        }

        IntervalSubscription[] inserts = pending is null ? [] : [.. pending.OrderBy(s => s.Start)];
        var result = new List<IntervalSubscription>(_tree.Count + inserts.Length);
        int next = 0;
        foreach (IntervalSubscription s in _tree)
        {
            if (!forRelease && s.State == SubscriptionState.PendingRemove)
            {
                continue;
            }

            while (next < inserts.Length && inserts[next].Start < s.Start)
            {
                result.Add(inserts[next++]);
            }

            result.Add(s);
        }

        result.AddRange(inserts.AsSpan(next));
        return [.. result];
    }

    // ----------------------------------------------------------------------- the read side

    internal ulong ReadBeginSlow(IntervalSubscription subscription)
    {
        ulong sequence;
        lock (_sync)
        {
            sequence = Volatile.Read(ref subscription._sequence);
            if (sequence != _sequence)
            {
                return sequence;
            }

            ThrowIfCallerHoldsBracket(nameof(IntervalSubscription.ReadBegin));
            WaitWhileSequenceIs(sequence);
        }

        CountWait("read_begin");
        return sequence;
    }

    internal ValueTask<ulong> ReadBeginSlowAsync(IntervalSubscription subscription, CancellationToken cancellationToken)
    {
        AsyncWaiter waiter;
        ulong sequence;
        lock (_sync)
        {
            sequence = Volatile.Read(ref subscription._sequence);
            if (sequence != _sequence)
            {
                return new ValueTask<ulong>(sequence);
            }

            ThrowIfCallerHoldsBracket(nameof(IntervalSubscription.ReadBeginAsync));
            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled<ulong>(cancellationToken);
            }

            waiter = EnqueueAsyncWaiter(unsubscribing: null);
        }

        CountWait("read_begin");
        waiter.RegisterCancellation(cancellationToken);
        return AwaitSequenceAsync(waiter, sequence);

        static async ValueTask<ulong> AwaitSequenceAsync(AsyncWaiter waiter, ulong sequence)
        {
            await waiter.WaitAsync().ConfigureAwait(false);
            return sequence;
        }
    }

    // ------------------------------------------------------------------------ unsubscribing

    /// <summary>What <see cref="BeginUnsubscribeLocked"/> did.</summary>
    private enum Unsubscribing
    {
        /// <summary>Nothing to do: already unsubscribed (non-strict only).</summary>
        AlreadyDone,

        /// <summary>Unsubscribed at once; nothing to wait for.</summary>
        Removed,

        /// <summary>The removal is queued; wait for the last end (S changes then).</summary>
        Queued,

        /// <summary>Someone else's removal is queued; wait for it too (non-strict only).</summary>
        WaitForOther,

        /// <summary>It would have to wait, but the token is cancelled: nothing changed.</summary>
        Cancelled,
    }

    internal void Unsubscribe(IntervalSubscription subscription, bool strict)
    {
        bool queued = false;
        bool waited = false;
        lock (_sync)
        {
            while (true)
            {
                Unsubscribing outcome = BeginUnsubscribeLocked(subscription, strict, nameof(IntervalSubscription.Unsubscribe), default);
                if (outcome is Unsubscribing.AlreadyDone or Unsubscribing.Removed)
                {
                    break;
                }

                // The removal is queued; the last end applies it and makes S change.
                queued |= outcome == Unsubscribing.Queued;
                waited = true;
                WaitWhileSequenceIs(_sequence);

                // Normally done. Only a cancelled UnsubscribeAsync racing a non-strict Dispose
                // can have put the subscription back; then start over.
                if (subscription.State is not (SubscriptionState.Subscribed or SubscriptionState.PendingInsert))
                {
                    break;
                }
            }
        }

        // Metrics after the lock: a listener is user code.
        if (queued)
        {
            CountDeferred("remove");
        }

        if (waited)
        {
            CountWait("unsubscribe");
        }
    }

    internal ValueTask UnsubscribeAsync(IntervalSubscription subscription, CancellationToken cancellationToken)
    {
        AsyncWaiter waiter;
        lock (_sync)
        {
            switch (BeginUnsubscribeLocked(subscription, strict: true, nameof(IntervalSubscription.UnsubscribeAsync), cancellationToken))
            {
                case Unsubscribing.Cancelled:
                    return ValueTask.FromCanceled(cancellationToken);
                case Unsubscribing.Queued:
                    waiter = EnqueueAsyncWaiter(subscription);
                    break;
                default:
                    return ValueTask.CompletedTask;
            }
        }

        CountDeferred("remove");
        CountWait("unsubscribe");
        waiter.RegisterCancellation(cancellationToken);
        return new ValueTask(waiter.WaitAsync());
    }

    // Under the lock: unsubscribes at once when it can, or queues the removal. Everything that
    // must leave no trace (a wait on one's own bracket, a cancelled token) is checked before
    // anything changes.
    private Unsubscribing BeginUnsubscribeLocked(IntervalSubscription subscription, bool strict, string operation, CancellationToken cancellationToken)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        AssertInvariants();
        SubscriptionState state = subscription.State;
        if (state == SubscriptionState.Unsubscribed || (state == SubscriptionState.PendingRemove && strict))
        {
            if (strict)
            {
                throw new InvalidOperationException(state == SubscriptionState.PendingRemove
                    ? "The subscription is being unsubscribed already."
                    : "The subscription is already unsubscribed.");
            }

            return Unsubscribing.AlreadyDone;
        }

        bool mustWait = state switch
        {
            // A walk may be running over it (or the release walk may have seen a deferred insert).
            SubscriptionState.Subscribed => (_sequence & 1) != 0,
            SubscriptionState.PendingInsert => subscription.SeenByRelease,
            _ => true, // PendingRemove, non-strict: someone else's removal; wait for it too
        };
        if (mustWait)
        {
            // Waiting for our own bracket would never end: refuse before changing anything.
            ThrowIfCallerHoldsBracket(operation);
            if (cancellationToken.IsCancellationRequested)
            {
                return Unsubscribing.Cancelled;
            }
        }

        switch (state)
        {
            case SubscriptionState.PendingRemove:
                return Unsubscribing.WaitForOther;

            case SubscriptionState.PendingInsert when !mustWait:
                // Its insert is still queued and no walk has seen it: cancel it; nothing to wait for.
                UnlinkDeferred(subscription);
                subscription.State = SubscriptionState.Unsubscribed;
                break;

            case SubscriptionState.Subscribed when !mustWait:
                // No walk can be running: remove now.
                _tree.Remove(subscription);
                subscription.State = SubscriptionState.Unsubscribed;
                break;

            default:
                // Queue the removal (a deferred insert seen by release stays where it is, now as
                // a removal); the last end applies it, after which no callback of it runs.
                if (state == SubscriptionState.Subscribed)
                {
                    AppendDeferred(subscription);
                }

                subscription.State = SubscriptionState.PendingRemove;
                Volatile.Write(ref _subscriptionCount, _subscriptionCount - 1);
                return Unsubscribing.Queued;
        }

        Volatile.Write(ref _subscriptionCount, _subscriptionCount - 1);
        return Unsubscribing.Removed;
    }

    // ------------------------------------------------------------------- brackets and lists

    private Invalidation OpenBracket()
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        Invalidation? invalidation = _freeBrackets;
        if (invalidation is null)
        {
            invalidation = new Invalidation(this);
        }
        else
        {
            _freeBrackets = invalidation.Next;
        }

        invalidation.OwnerThreadId = Environment.CurrentManagedThreadId;
        invalidation.Previous = null;
        invalidation.Next = _openBrackets;
        if (_openBrackets is not null)
        {
            _openBrackets.Previous = invalidation;
        }

        _openBrackets = invalidation;
        Volatile.Write(ref _active, _active + 1);
        return invalidation;
    }

    private void CloseBracket(Invalidation invalidation)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        Debug.Assert(invalidation.FinishList.IsEmpty);
        if (invalidation.Previous is null)
        {
            _openBrackets = invalidation.Next;
        }
        else
        {
            invalidation.Previous.Next = invalidation.Next;
        }

        if (invalidation.Next is not null)
        {
            invalidation.Next.Previous = invalidation.Previous;
        }

        invalidation.Generation++;
        invalidation.Previous = null;
        invalidation.Next = _freeBrackets;
        _freeBrackets = invalidation;
    }

    // Waiting for one's own bracket to end would never end: the calling thread holds an open
    // bracket (it may be inside a callback, which always runs on the bracket's thread).
    private void ThrowIfCallerHoldsBracket(string operation)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        int thread = Environment.CurrentManagedThreadId;
        for (Invalidation? b = _openBrackets; b is not null; b = b.Next)
        {
            if (b.OwnerThreadId == thread)
            {
                throw new InvalidOperationException(
                    $"{operation} would wait for the running invalidations of this address space to end, but the calling thread holds one of them open (it is inside a callback, or between a begin and its scope's Dispose), so the wait would never end.");
            }
        }
    }

    private void AppendDeferred(IntervalSubscription subscription)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        subscription.DeferredNext = null;
        subscription.DeferredPrevious = _deferredTail;
        if (_deferredTail is null)
        {
            _deferredHead = subscription;
        }
        else
        {
            _deferredTail.DeferredNext = subscription;
        }

        _deferredTail = subscription;
    }

    private void UnlinkDeferred(IntervalSubscription subscription)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        if (subscription.DeferredPrevious is null)
        {
            _deferredHead = subscription.DeferredNext;
        }
        else
        {
            subscription.DeferredPrevious.DeferredNext = subscription.DeferredNext;
        }

        if (subscription.DeferredNext is null)
        {
            _deferredTail = subscription.DeferredPrevious;
        }
        else
        {
            subscription.DeferredNext.DeferredPrevious = subscription.DeferredPrevious;
        }

        subscription.DeferredPrevious = null;
        subscription.DeferredNext = null;
    }

    // Applies the deferred tree changes in the order they were made (the kernel applies them
    // newest first; FIFO keeps walk order among equal starts equal to subscribe order).
    private void ApplyDeferred()
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        IntervalSubscription? subscription = _deferredHead;
        _deferredHead = null;
        _deferredTail = null;
        while (subscription is not null)
        {
            IntervalSubscription? next = subscription.DeferredNext;
            subscription.DeferredPrevious = null;
            subscription.DeferredNext = null;
            if (subscription.State == SubscriptionState.PendingInsert)
            {
                _tree.Insert(subscription);
                subscription.State = SubscriptionState.Subscribed;
            }
            else
            {
                Debug.Assert(subscription.State == SubscriptionState.PendingRemove);
                if (_tree.Contains(subscription))
                {
                    _tree.Remove(subscription); // else: a deferred insert, never inserted
                }

                subscription.State = SubscriptionState.Unsubscribed;
            }

            subscription = next;
        }
    }

    // ------------------------------------------------------------------------------ waiting

    private void WaitWhileSequenceIs(ulong sequence)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        _syncWaiters++;
        try
        {
            while (_sequence == sequence)
            {
                Monitor.Wait(_sync);
            }
        }
        finally
        {
            _syncWaiters--;
        }
    }

    private AsyncWaiter EnqueueAsyncWaiter(IntervalSubscription? unsubscribing)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        var waiter = new AsyncWaiter(this, unsubscribing)
        {
            Next = _asyncWaiters,
            IsQueued = true,
        };
        if (_asyncWaiters is not null)
        {
            _asyncWaiters.Previous = waiter;
        }

        _asyncWaiters = waiter;
        _asyncWaiterCount++;
        return waiter;
    }

    private void UnlinkAsyncWaiter(AsyncWaiter waiter)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        if (waiter.Previous is null)
        {
            _asyncWaiters = waiter.Next;
        }
        else
        {
            waiter.Previous.Next = waiter.Next;
        }

        if (waiter.Next is not null)
        {
            waiter.Next.Previous = waiter.Previous;
        }

        waiter.Previous = null;
        waiter.Next = null;
        waiter.IsQueued = false;
        _asyncWaiterCount--;
    }

    private AsyncWaiter? DetachAsyncWaiters()
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        AsyncWaiter? head = _asyncWaiters;
        for (AsyncWaiter? w = head; w is not null; w = w.Next)
        {
            w.IsQueued = false;
        }

        _asyncWaiters = null;
        _asyncWaiterCount = 0;
        return head;
    }

    private static void CompleteWaiters(AsyncWaiter? waiter)
    {
        while (waiter is not null)
        {
            AsyncWaiter? next = waiter.Next;
            waiter.Next = null;
            waiter.Previous = null;
            waiter.TrySetResult();
            waiter = next;
        }
    }

    private void CancelAsyncWaiter(AsyncWaiter waiter, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            if (!waiter.IsQueued)
            {
                return; // Woken already: the wait completes normally.
            }

            UnlinkAsyncWaiter(waiter);
            if (waiter.Unsubscribing is { } subscription && subscription.State == SubscriptionState.PendingRemove)
            {
                // A cancelled unsubscribe has no effect: take the queued removal back (a deferred
                // insert stays on the deferred list, as an insert again).
                if (_tree.Contains(subscription))
                {
                    UnlinkDeferred(subscription);
                    subscription.State = SubscriptionState.Subscribed;
                }
                else
                {
                    subscription.State = SubscriptionState.PendingInsert;
                }

                Volatile.Write(ref _subscriptionCount, _subscriptionCount + 1);
            }
        }

        // Outside the lock: cancellation completes the task, and a continuation must not find
        // the lock held.
        waiter.TrySetCanceled(cancellationToken);
    }

    /// <summary>An asynchronous wait for the end of the running invalidations.</summary>
    private sealed class AsyncWaiter(AddressSpace space, IntervalSubscription? unsubscribing)
        : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        private CancellationTokenRegistration _registration;

        internal AsyncWaiter? Previous { get; set; }

        internal AsyncWaiter? Next { get; set; }

        internal bool IsQueued { get; set; }

        internal IntervalSubscription? Unsubscribing { get; } = unsubscribing;

        internal void RegisterCancellation(CancellationToken cancellationToken)
        {
            if (cancellationToken.CanBeCanceled)
            {
                _registration = cancellationToken.UnsafeRegister(
                    static (state, token) => ((AsyncWaiter)state!).Cancel(token), this);
            }
        }

        internal async Task WaitAsync()
        {
            try
            {
                await Task.ConfigureAwait(false);
            }
            finally
            {
                await _registration.DisposeAsync().ConfigureAwait(false);
            }
        }

        private void Cancel(CancellationToken cancellationToken) => space.CancelAsyncWaiter(this, cancellationToken);
    }

    // ------------------------------------------------------------------------- diagnostics

    private void CountDeferred(string change)
    {
        if (Instruments.DeferredChanges.Enabled)
        {
            Instruments.DeferredChanges.Add(1, _metricTag, new(NotifierMetrics.ChangeTag, change));
        }
    }

    private void CountWait(string what)
    {
        if (Instruments.Waits.Enabled)
        {
            Instruments.Waits.Add(1, _metricTag, new(NotifierMetrics.WaitTag, what));
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        Debug.Assert(_active >= 0, "The active count is negative.");
        Debug.Assert(_active != 0 || (_sequence & 1) == 0, "S is odd while no invalidation is active.");
        Debug.Assert(_deferredHead is null || (_sequence & 1) != 0, "Tree changes are deferred while S is even.");

        int open = 0;
        for (Invalidation? b = _openBrackets; b is not null; b = b.Next)
        {
            open++;
        }

        Debug.Assert(open == _active, "The open brackets do not match the active count.");

        int pendingInserts = 0;
        int pendingRemoves = 0;
        for (IntervalSubscription? s = _deferredHead; s is not null; s = s.DeferredNext)
        {
            if (s.State == SubscriptionState.PendingInsert)
            {
                pendingInserts++;
            }
            else
            {
                Debug.Assert(s.State == SubscriptionState.PendingRemove);
                pendingRemoves += _tree.Contains(s) ? 1 : 0; // a deferred insert seen by release is not in the tree
            }
        }

        Debug.Assert(_subscriptionCount == _tree.Count + pendingInserts - pendingRemoves, "SubscriptionCount does not match the tree and the deferred list.");
    }
}
