using System.Diagnostics;
using System.Globalization;
using IntervalNotifier.Collections;
using IntervalNotifier.Internal;

namespace IntervalNotifier;

/// <summary>
/// A mirror's interest in the closed range <c>[Start, Last]</c> of an <see cref="AddressSpace"/>,
/// with its own sequence number and the callbacks that invalidate the mirror's copy (kernel:
/// <c>struct mmu_interval_notifier</c>). Created by <see cref="AddressSpace.Subscribe"/>.
/// </summary>
/// <remarks>
/// <para>The mirror's fault path, in order (see <see cref="AddressSpace"/> for why it works):</para>
/// <code>
/// while (true)
/// {
///     ulong seq = subscription.ReadBegin();          // never with the mirror's lock held
///     var value = ReadPrimary(address);              // may fail: start over
///     lock (mirrorLock)
///     {
///         if (subscription.ReadRetry(seq)) continue; // an invalidation intervened
///         Publish(address, value);
///     }
///     break;
/// }
/// </code>
/// </remarks>
[DebuggerDisplay("{ToString(),nq}, Sequence = {Sequence}, {State}")]
public sealed class IntervalSubscription : IDisposable, IAsyncDisposable, IListNode<IntervalSubscription>
{
    private readonly AddressSpace _space;
    private readonly IIntervalInvalidator _invalidator;

    // The subscription's sequence `s`: written by callbacks (SetSequence) and by the address
    // space under its lock; read lock-free by the read side.
    internal ulong _sequence;

    // A SubscriptionState, as an int so that it can be read with Volatile.
    private int _state;

    // The address space's deferred-change list (docs/contract.md §5); guarded by its lock.
    private ListLinks<IntervalSubscription> _deferredLinks;

    internal IntervalSubscription(AddressSpace space, ulong start, ulong last, IIntervalInvalidator invalidator)
    {
        _space = space;
        _invalidator = invalidator;
        Start = start;
        Last = last;
        TwoPass = invalidator as ITwoPassIntervalInvalidator;
        AsyncTwoPass = invalidator as IAsyncTwoPassIntervalInvalidator;
    }

    /// <summary>The address space this subscription belongs to.</summary>
    public AddressSpace AddressSpace => _space;

    /// <summary>The first address of the subscribed range.</summary>
    public ulong Start { get; }

    /// <summary>The last address of the subscribed range, inclusive.</summary>
    public ulong Last { get; }

    /// <summary>The callbacks given at subscribe time.</summary>
    public IIntervalInvalidator Invalidator => _invalidator;

    /// <summary>Whether the subscription is live: subscribed (its insert may still be deferred) and not yet unsubscribed.</summary>
    public bool IsSubscribed => State is SubscriptionState.Subscribed or SubscriptionState.PendingInsert or SubscriptionState.PendingInsertWalked;

    /// <summary>The subscription's current sequence, for diagnostics.</summary>
    public ulong Sequence => Volatile.Read(ref _sequence);

    /// <summary>The two-pass callbacks, when the invalidator has them: the walk calls these instead of <see cref="IIntervalInvalidator.Invalidate"/>.</summary>
    internal ITwoPassIntervalInvalidator? TwoPass { get; }

    /// <summary>The awaitable finish, when the invalidator has it: the asynchronous begin calls it instead of <see cref="ITwoPassIntervalInvalidator.InvalidateFinish"/>.</summary>
    internal IAsyncTwoPassIntervalInvalidator? AsyncTwoPass { get; }

    /// <summary>Where the subscription is in its life; written under the address space's lock, read lock-free.</summary>
    internal SubscriptionState State
    {
        get => (SubscriptionState)Volatile.Read(ref _state);
        set => Volatile.Write(ref _state, (int)value);
    }

    /// <summary>
    /// Set by <see cref="UnsubscribeDeferred"/>; guarded by the address space's lock. Its removal
    /// is then never taken back (a cancelled <see cref="UnsubscribeAsync"/> leaves it queued), and
    /// later unsubscribes are quiet: they wait for the queued removal, or return when it is applied.
    /// </summary>
    internal bool RemovalDeferred { get; set; }

    /// <summary>What the address space's index returned when it inserted this subscription; guarded by its lock.</summary>
    internal IntervalTreeHandle IndexHandle { get; set; }

    static ref ListLinks<IntervalSubscription> IListNode<IntervalSubscription>.LinksOf(IntervalSubscription node) => ref node._deferredLinks;

    /// <summary>
    /// Begins a read of the primary for this subscription's range (kernel:
    /// <c>mmu_interval_read_begin</c>): returns the sequence to pass to <see cref="ReadRetry"/>.
    /// The value may already be stale when it returns: that is what <see cref="ReadRetry"/> is for.
    /// </summary>
    /// <remarks>
    /// <para>
    /// It returns at once unless the subscription's sequence equals the address space's odd
    /// sequence, and then it waits until <em>every</em> invalidation open in the address space
    /// has ended (the end of the odd period, docs/contract.md §3) — including invalidations of
    /// ranges this subscription does not overlap. That happens in two cases: an invalidation of
    /// the current odd period has hit this subscription; or the subscription was created while
    /// invalidations were open (§5: its range must be assumed to be inside them, so it starts
    /// "being invalidated") and the odd period they belong to has not ended yet. A
    /// subscription created while the address space is idle, and not hit since, never waits —
    /// whatever other ranges are being invalidated. So a mirror that subscribes on every miss
    /// makes each miss wait for the writes running anywhere at that moment; subscribe once per
    /// region and reuse the subscription (docs/guide.md).
    /// </para>
    /// <para>
    /// Lock-free and allocation-free unless it must wait. Must not be called with the mirror's
    /// own lock held (or any lock a callback takes): it may wait for a callback that needs it.
    /// </para>
    /// </remarks>
    /// <returns>The sequence observed.</returns>
    /// <exception cref="InvalidOperationException">
    /// It would have to wait, and the calling thread holds an open invalidation of this address
    /// space (it is inside a callback, or between a begin and its scope's Dispose): the wait
    /// would never end.
    /// </exception>
    public ulong ReadBegin()
    {
        // Read `s` before `S` (both acquire): see "The read side" in AddressSpace.
        ulong sequence = Volatile.Read(ref _sequence);
        return sequence != _space.Sequence ? sequence : _space.ReadBeginSlow(this);
    }

    /// <summary>
    /// The awaitable form of <see cref="ReadBegin"/>: completes at once (without allocating)
    /// unless this subscription is being invalidated, and otherwise when every running
    /// invalidation has ended. Blocks no thread.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait; a cancelled wait leaves nothing registered.</param>
    /// <returns>The sequence observed.</returns>
    /// <exception cref="InvalidOperationException">As for <see cref="ReadBegin"/>; thrown synchronously.</exception>
    /// <exception cref="OperationCanceledException">The wait was cancelled (through the returned task).</exception>
    public ValueTask<ulong> ReadBeginAsync(CancellationToken cancellationToken = default)
    {
        ulong sequence = Volatile.Read(ref _sequence);
        return sequence != _space.Sequence ? new ValueTask<ulong>(sequence) : _space.ReadBeginSlowAsync(this, cancellationToken);
    }

    /// <summary>
    /// Whether a copy read since <see cref="ReadBegin"/> returned <paramref name="sequence"/>
    /// may be stale (kernel: <c>mmu_interval_read_retry</c>). Call it under the mirror's own
    /// lock — the lock the callbacks take to call <see cref="SetSequence"/> — just before
    /// publishing the copy; if it returns <see langword="true"/>, drop the copy and start over.
    /// </summary>
    /// <param name="sequence">The value <see cref="ReadBegin"/> returned.</param>
    /// <returns><see langword="true"/> if an invalidation has hit the subscription since.</returns>
    public bool ReadRetry(ulong sequence) => Volatile.Read(ref _sequence) != sequence;

    /// <summary>
    /// The same test as <see cref="ReadRetry"/> without the mirror's lock (kernel:
    /// <c>mmu_interval_check_retry</c>): a cheap early-out during a long read. It may say
    /// "no retry" falsely, never "retry" falsely; the decisive test is <see cref="ReadRetry"/>.
    /// </summary>
    /// <param name="sequence">The value <see cref="ReadBegin"/> returned.</param>
    /// <returns><see langword="true"/> if the copy is certainly stale.</returns>
    public bool CheckRetry(ulong sequence) => ReadRetry(sequence);

    /// <summary>
    /// Records that the running invalidation has hit this subscription (kernel:
    /// <c>mmu_interval_set_seq</c>). Call it from a callback, under the mirror's lock, with the
    /// callback's <c>currentSequence</c>, before tearing down the copy.
    /// </summary>
    /// <param name="currentSequence">The sequence the callback received.</param>
    /// <exception cref="InvalidOperationException">
    /// <paramref name="currentSequence"/> is not the sequence of an invalidation that is running
    /// (the address space's odd <see cref="AddressSpace.Sequence"/>): a stray call — outside any
    /// callback, or with another value — must not make a stale copy look valid.
    /// </exception>
    /// <remarks>Lock-free; allocates nothing.</remarks>
    public void SetSequence(ulong currentSequence)
    {
        // While a callback runs, its bracket is open, so S cannot change: the sequence it was
        // given is S, and odd (docs/contract.md §3).
        if (currentSequence != _space.Sequence || (currentSequence & 1) == 0)
        {
            ThrowNotRunning(currentSequence);
        }

        Volatile.Write(ref _sequence, currentSequence);
    }

    private void ThrowNotRunning(ulong currentSequence) =>
        throw new InvalidOperationException(
            $"{currentSequence} is not the sequence of an invalidation that is running (the address space's sequence is {_space.Sequence}); call SetSequence from a callback, with the currentSequence it received.");

    /// <summary>
    /// Unsubscribes (kernel: <c>mmu_interval_notifier_remove</c>). When it returns, no callback
    /// of this subscription is running or will run. If invalidations are running that may walk
    /// the subscription, the removal is deferred and this call waits until they have all ended;
    /// otherwise it returns at once.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The subscription is already unsubscribed (or being unsubscribed); or the call would have
    /// to wait and the calling thread holds an open invalidation of this address space (from
    /// inside any callback, or between a begin and its scope's Dispose) — it would wait for
    /// itself forever. Then nothing changes. Cancelling a still-deferred insert never waits and
    /// is allowed anywhere.
    /// </exception>
    public void Unsubscribe() => _space.Unsubscribe(this, strict: true);

    /// <summary>
    /// Unsubscribes without ever waiting — callable from anywhere, this subscription's own
    /// callbacks included (a model addition: kernel drivers queue such removals to a worker of
    /// their own). While no invalidation may be walking the subscription it is removed at once;
    /// otherwise its removal is queued and applied by the last end of the running invalidations:
    /// from then on no callback of it starts, while callbacks of brackets already open may still
    /// run until then. An insert that is still deferred is simply dropped.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Never throws for a self-wait, never allocates, and is idempotent: a second call, or a
    /// call on a subscription already unsubscribed (or being unsubscribed), does nothing. The
    /// removal is never taken back: a cancelled <see cref="UnsubscribeAsync"/> leaves it queued.
    /// A later <see cref="Unsubscribe"/>, <see cref="UnsubscribeAsync"/> or <see cref="Dispose"/>
    /// waits for the queued removal (so that, when it returns, no callback runs any more) and
    /// does not throw "already unsubscribed".
    /// </para>
    /// <para>
    /// Use it to drop a subscription <em>because</em> it was invalidated, from inside its own
    /// callback, where <see cref="Unsubscribe"/> would wait for itself and throws instead.
    /// <see cref="IsSubscribed"/> is <see langword="false"/> from the call on.
    /// </para>
    /// </remarks>
    public void UnsubscribeDeferred() => _space.UnsubscribeDeferred(this);

    /// <summary>
    /// The awaitable form of <see cref="Unsubscribe"/>: completes at once when no wait is needed,
    /// otherwise when every running invalidation has ended. Blocks no thread.
    /// </summary>
    /// <param name="cancellationToken">
    /// Cancels the wait. A cancelled unsubscribe has no effect: the subscription stays subscribed
    /// (unless the invalidations ended first, and then the unsubscribe completes normally), and
    /// nothing is left registered.
    /// </param>
    /// <returns>A task that completes when no callback of this subscription can run any more.</returns>
    /// <exception cref="InvalidOperationException">As for <see cref="Unsubscribe"/>; thrown synchronously.</exception>
    /// <exception cref="OperationCanceledException">The wait was cancelled (through the returned task).</exception>
    public ValueTask UnsubscribeAsync(CancellationToken cancellationToken = default) => _space.UnsubscribeAsync(this, cancellationToken);

    /// <summary>
    /// Unsubscribes like <see cref="Unsubscribe"/>, but does nothing when the subscription is
    /// already unsubscribed (so that <c>using</c> and an explicit unsubscribe combine). When it
    /// returns, no callback of this subscription is running or will run.
    /// </summary>
    /// <exception cref="InvalidOperationException">The call would have to wait for an invalidation the calling thread holds open.</exception>
    public void Dispose() => _space.Unsubscribe(this, strict: false);

    /// <summary>
    /// Unsubscribes without blocking, like <see cref="UnsubscribeAsync"/>, but does nothing when
    /// the subscription is already unsubscribed (so that <c>await using</c> and an explicit
    /// unsubscribe combine), and waits for an unsubscribe already under way. When the task
    /// completes, no callback of this subscription is running or will run.
    /// </summary>
    /// <returns>A task that completes when no callback of this subscription can run any more.</returns>
    /// <exception cref="InvalidOperationException">The call would have to wait for an invalidation the caller holds open (thrown synchronously).</exception>
    public ValueTask DisposeAsync() => _space.DisposeSubscriptionAsync(this);

    /// <summary>The subscribed range, in hexadecimal.</summary>
    /// <returns>For example <c>[0x1000, 0x1fff]</c>.</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"[0x{Start:x}, 0x{Last:x}]");
}
