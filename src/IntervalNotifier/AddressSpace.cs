using System.Diagnostics;
using System.Runtime.InteropServices;
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
[DebuggerTypeProxy(typeof(AddressSpaceDebugView))]
public sealed partial class AddressSpace : IDisposable, IAsyncDisposable
{
    // ---------------------------------------------------------------------------------------
    // The sequence protocol (docs/contract.md §3): a seqcount that admits many writers at once.
    //
    // S (_sequence) starts at 2 and is even while no invalidation that hit a subscription is
    // running. The first begin that finds an overlapping subscription makes it odd (S |= 1); it
    // stays odd until the count of active brackets (in _state) returns to zero, and that last end
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
    // The fast path (a model addition: begin and end without the lock in the common case).
    // The lock's work at begin and end is the count, S's parity and the first lookup; one state
    // word (_state) carries what they need to agree on without it: the active count, the
    // "lookers" (fast begins between counting themselves and the end of their first lookup),
    // ODD (a counted bracket made S odd: the last end has work), GATE (begins must take the
    // lock), PINNED (a change was deferred or a waiter waits in this odd period: its last end
    // must take the lock) and CLOSING (a last end is making S even without the lock). Each
    // thread has one bracket of its own for it (t_fastBracket), so no registry is touched;
    // self-wait detection asks the calling thread's bracket which space it is open in.
    //
    //   fast begin:  CAS word: count+1, lookers+1, only while GATE and CLOSING are clear (else:
    //                the lock); first lookup; if it hits: S |= 1 (a plain store: every concurrent
    //                writer stores the same odd value), then CAS word: lookers-1 | ODD; else lookers-1
    //   fast end:    CAS generation (a scope ends once), then CAS word: count-1 — unless it is
    //                the last bracket and ODD is set: then the last end
    //   last end,    CAS word (count 1 | ODD) -> (count 0 | CLOSING); S++; clear CLOSING by a
    //   unpinned:    plain store (point 6). Only when PINNED and GATE are clear; no lock.
    //   last end,    under the lock, CAS word (count 1 | ODD) -> (count 0 | GATE), clearing PINNED:
    //   otherwise:   S++, apply the deferred changes, wake the waiters, clear GATE
    //   locked       first wait while CLOSING is set (three instructions). A slow begin counts
    //   regions:     itself by a CAS that needs CLOSING clear. A region that defers or waits
    //                because S is odd first pins the period: CAS word |= PINNED, then reads S
    //                again; odd, the period's last end now needs the lock (PinOddLocked). It
    //                decides by the pin's answer, never by a later read of S: S may become odd
    //                after a pin that found it even (a ReadBegin that then sees s == S pins again).
    //   tree change: under the lock, pin if S is odd (then defer, §5); else set GATE (a CAS that
    //                needs CLOSING clear, as is teardown's) and wait
    //   (any, and the  until lookers == 0 and CLOSING is clear, decide by S's parity as before,
    //   S-parity read  clear GATE. An insert that makes S odd while brackets are active sets ODD
    //   of unsubscribe) only by a CAS that sees count > 0 (a fast end may take the count to zero
    //                meanwhile: then the insert came after them all)
    //
    // Why it is as strong as the locked begin and end: (1) A lookup never meets a changing tree:
    // lookers are counted before they look, GATE stops new ones, and a tree change starts only
    // once lookers == 0. (2) S's parity is final when a mutator reads it: every finished lookup
    // that hit made S odd before leaving the lookers, and no closing is half done; running walks
    // then see S odd and the mutator defers (§5), as with the locked begin. (3) S cannot become
    // even under a counted bracket: the only S++ is a last end's, whose CAS needs count == 1
    // (itself) and sets GATE or CLOSING in the same step, so no begin can count itself between
    // the check and the S++ (fast begins stop at either flag; slow begins count only with
    // CLOSING clear, and under the lock that the locked last end holds); a begin that slips in
    // before the CAS makes it fail, and that end is then not the last. (4) No waiter is stranded
    // and no deferred change lost: deferral and waiting happen only in a pinned odd period; a
    // lock-free last end needs PINNED clear, and PINNED is cleared only by a locked last end; so
    // the last end of every pinned period takes the lock, where it applies the list and pulses
    // (the pinning region holds the lock, so that end comes after it; a waiter re-reads S there).
    // (5) A 0-hit period needs no lock at all: nothing waits on it and nothing is deferred in it
    // (S stays even); a hit period that nobody pinned needs none either (nothing to apply or
    // wake). (6) While CLOSING is set, its closer is the word's only writer, so it clears
    // CLOSING with a plain store of the word it wrote: the count is 0, so no bracket can end and
    // no lookup is running (the closing CAS needs lookers == 0 and count == 1, its own); fast
    // begins do not write while CLOSING is set, and their CAS fails if it was set after their
    // read; every locked write either needs a counted bracket (the ODD of a locked begin, an
    // insert's ODD, a locked last end: none exists during a closing) or is a CAS on a word read
    // without CLOSING (a slow begin's count, a pin, GATE). The Coyote scenarios in
    // FastPathScenarios race fast begins with the last end, a subscribe, an unsubscribe, a
    // waiting ReadBegin and a nested (slow) begin, with planted bugs: a last end that skips the
    // slow path, a gate that does not wait for lookups, a region that does not pin, locked
    // regions that do not wait for a closing, and a gate set by an atomic OR during a closing.
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
    // end completes after dropping the lock (see WaiterQueue).
    //
    // Where things are: this file holds the state and its invariants; the data path (begin,
    // start pass, finish pass, end) is AddressSpace.Invalidate.cs; the state word's protocol
    // (fast begin and end, the last end, the gate) AddressSpace.FastPath.cs; subscribe, unsubscribe and
    // the deferred changes (§5) AddressSpace.Subscribe.cs; the read side's slow paths (§3)
    // AddressSpace.ReadSide.cs; teardown and snapshots (§7) AddressSpace.Teardown.cs.
    // ---------------------------------------------------------------------------------------


    internal const ulong InitialSequence = 2;

    /// <summary>The one lock: guards every field below but the collaborators' own lock-free parts.</summary>
    private readonly object _sync = new();

    /// <summary>The inserted subscriptions (§2); changed only while no walk can run (§5).</summary>
    private readonly SubscriptionIndex _tree = new();

    /// <summary>The tree changes deferred during the current odd period (§5), applied by its last end.</summary>
    private readonly DeferredChanges _deferred;

    /// <summary>The open brackets begun on the slow path (the fast ones are counted in <see cref="_state"/> only) and the closed ones kept for reuse.</summary>
    private readonly BracketRegistry _brackets;

    /// <summary>The threads and asynchronous waiters that wait for the last end of the odd period.</summary>
    private readonly WaiterQueue _waiters;

    /// <summary>Asynchronous begins whose task has been consumed, kept for reuse.</summary>
    private IntrusiveList<AsyncBegin> _asyncBegins;

    /// <summary>Records the measurements, outside the lock and failure-safe.</summary>
    private readonly SpaceMetrics _metrics;

    /// <summary>The name given in the options.</summary>
    private readonly string? _name;

    /// <summary>S: even while idle, odd from the first begin that hits until the last end (§3). Written by the begins that hit (S |= 1) and by the last end (S++), with or without the lock (see the fast path); read lock-free.</summary>
    private ulong _sequence;

    /// <summary>
    /// The bracket state word (see the fast path in the protocol comment): the active count (open
    /// brackets, <see cref="CountMask"/>), the fast begins still looking up their first hit
    /// without the lock (<see cref="LookerMask"/>), <see cref="OddFlag"/> (S was made odd by a
    /// bracket that is still counted: the last end must take the slow path) and
    /// <see cref="GateFlag"/> (begins must take the lock: the tree is about to change, the odd
    /// period is closing under the lock, or the space is torn down), <see cref="PinnedFlag"/> (a
    /// change was deferred or a waiter waits in this odd period: its last end must take the
    /// lock) and <see cref="ClosingFlag"/> (a last end is making S even without the lock).
    /// Changed only by atomic operations.
    /// </summary>
    private PaddedWord _state;

    /// <summary>
    /// A word alone on its cache line: every begin and end writes the state word, and the
    /// lock-free read side reads S on every fault; sharing a line would make each reader miss
    /// on every unrelated invalidation (B6).
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PaddedWord
    {
        [FieldOffset(64)]
        public long Value;
    }

    private const long CountOne = 1;
    private const long CountMask = (1L << 30) - 1;
    private const long LookerOne = 1L << 32;
    private const long LookerMask = ((1L << 20) - 1) << 32;
    private const long OddFlag = 1L << 60;
    private const long GateFlag = 1L << 61;
    private const long PinnedFlag = 1L << 59;
    private const long ClosingFlag = 1L << 62;

    /// <summary>
    /// The live subscriptions (inserted, or insert deferred; not being unsubscribed): only a
    /// cache for lock-free reads of <see cref="SubscriptionCount"/>, kept under the lock and
    /// checked against the tree and the deferred list by <see cref="AssertInvariants"/>.
    /// </summary>
    private int _subscriptionCount;

    /// <summary>Where the teardown (§7) is.</summary>
    private Teardown _teardown;

    /// <summary>For the systematic tests' controls only: bugs planted in this address space's protocol.</summary>
    internal PlantedBugs Planted;

    /// <summary>The release invalidation's bracket (and its generation) while it runs; a second <see cref="Dispose"/> from inside it returns at once.</summary>
    private Bracket? _teardownBracket;

    /// <summary>The generation of <see cref="_teardownBracket"/> during the release.</summary>
    private ulong _teardownGeneration;

    /// <summary>Completed when the teardown is done, for a second <see cref="DisposeAsync"/> to await; created only then.</summary>
    private TaskCompletionSource? _teardownDone;

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
        _metrics = new SpaceMetrics(this, options);
        _deferred = new DeferredChanges(_sync);
        _brackets = new BracketRegistry(_sync, this);
        _waiters = new WaiterQueue(_sync, this);
    }

    /// <summary>Where the teardown is.</summary>
    private enum Teardown
    {
        /// <summary>Not begun: subscribing and invalidating work.</summary>
        None,

        /// <summary>The release invalidation is running.</summary>
        Running,

        /// <summary>Done.</summary>
        Done,
    }

    /// <summary>The address space's sequence <c>S</c>, for diagnostics: even while idle, odd while invalidations that hit a subscription run.</summary>
    public ulong Sequence => Volatile.Read(ref _sequence);

    /// <summary>The number of open brackets (begun and not yet ended).</summary>
    public int ActiveInvalidations => (int)(Volatile.Read(ref _state.Value) & CountMask);

    /// <summary>The number of live subscriptions: subscribed (including inserts still deferred) and not yet unsubscribed.</summary>
    public int SubscriptionCount => Volatile.Read(ref _subscriptionCount);

    /// <summary>The name given in <see cref="AddressSpaceOptions.Name"/>.</summary>
    public string? Name => _name;

    /// <summary>The address space's measurements.</summary>
    internal SpaceMetrics Metrics => _metrics;

    /// <summary>Asynchronous waiters currently queued; for tests.</summary>
    internal int AsyncWaiterCount
    {
        get
        {
            lock (_sync)
            {
                return _waiters.QueuedCount;
            }
        }
    }

    internal string DebuggerDisplay =>
        $"{(_name is null ? "" : _name + ": ")}Sequence = {Sequence}, Active = {ActiveInvalidations}, Subscriptions = {SubscriptionCount}{(_teardown != Teardown.None ? ", released" : "")}";

    /// <summary>
    /// Checks the shared protocol state against itself — S, the active count, the open brackets,
    /// the tree, the deferred list, the waiters, the live count. Begins every locked region.
    /// </summary>
    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        // Fast begins and ends change S and the state word without the lock, so the reads are
        // ordered and the checks that relate them are made only when S did not change around the
        // word's read and no lock-free last end was closing (CLOSING: the count is already 0, S
        // not yet even). Then: S odd, read before the word, means a counted bracket made it odd
        // (it cannot become even between the reads: that takes a closing, which would show); the
        // odd flag, read before S, was set after S became odd.
        ulong sequenceBefore = Volatile.Read(ref _sequence);
        long state = Volatile.Read(ref _state.Value);
        ulong sequenceAfter = Volatile.Read(ref _sequence);
        int active = (int)(state & CountMask);
        bool settled = sequenceBefore == sequenceAfter && (state & ClosingFlag) == 0;
        Debug.Assert(active >= _brackets.OpenCount, "The active count is below the open brackets of the registry (fast brackets are counted but not registered).");
        Debug.Assert((state & LookerMask) >> 32 <= active, "More lookers than active brackets.");
        Debug.Assert(!settled || active != 0 || (sequenceBefore & 1) == 0, "S is odd while no invalidation is active.");
        Debug.Assert(!settled || (state & OddFlag) == 0 || (sequenceAfter & 1) != 0, "The odd flag is set while S is even.");
        Debug.Assert((state & GateFlag) == 0 || _teardown != Teardown.None, "The gate is left closed outside a locked region.");
        // A deferral or a queued waiter pinned its odd period: S stays odd until the lock's next holder ends it.
        Debug.Assert(_deferred.IsEmpty || ((_sequence & 1) != 0 && (state & PinnedFlag) != 0), $"Tree changes are deferred while S is even, or in a period not pinned (S {_sequence}, word {state:X}).");
        Debug.Assert(_waiters.QueuedCount == 0 || ((_sequence & 1) != 0 && (state & PinnedFlag) != 0), "Asynchronous waiters wait while S is even, or in a period not pinned.");
        Debug.Assert(_brackets.Check() is null, _brackets.Check());
        Debug.Assert(_deferred.Check() is null, _deferred.Check());
        Debug.Assert(_waiters.Check() is null, _waiters.Check());

        int live = _tree.Count;
        for (IntervalSubscription? s = _deferred.First; s is not null; s = DeferredChanges.Next(s))
        {
            live += s.State switch
            {
                SubscriptionState.PendingInsert or SubscriptionState.PendingInsertWalked => 1,
                SubscriptionState.PendingRemove => -1,
                _ => 0,
            };
        }

        Debug.Assert(live == _subscriptionCount, "SubscriptionCount does not match the tree and the deferred list.");
    }
}
