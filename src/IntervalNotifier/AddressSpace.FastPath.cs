using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using IntervalNotifier.Internal;

namespace IntervalNotifier;

// The bracket state word's protocol (the fast path in AddressSpace.cs's protocol comment): the
// begin and end that take no lock, the last end of an odd period, and the gate that tree changes
// close. The data path that calls them is AddressSpace.Invalidate.cs.
public sealed partial class AddressSpace
{
    // The calling thread's bracket for the fast path: one per thread, allocated at its first
    // invalidation, free while its Space is null.
    [ThreadStatic]
    private static Bracket? t_fastBracket;

    // Once per thread: the only allocation of the fast path.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Bracket NewFastBracket() => t_fastBracket = new Bracket(space: null, isFast: true) { Owner = Thread.CurrentThread };

    /// <summary>The calling thread's fast bracket, if it has one (open in <see cref="Bracket.Space"/>, or free).</summary>
    internal static Bracket? FastBracketOfCaller => t_fastBracket;

    // Begin without the lock (see the protocol comment): count the bracket and this lookup in one
    // compare-and-swap while the gate is open, find the first hit, make S odd if there is one,
    // and stop looking. False when the slow path must run: the gate is closed (the tree is about
    // to change, the odd period is closing, the space is torn down), the thread's bracket is in
    // use (a nested bracket), or another begin or end changed the word first. A last end that
    // is closing the odd period without the lock (CLOSING) stops fast begins as the gate does.
    private bool TryOpenFast(in InvalidationRange range, [NotNullWhen(true)] out Bracket? bracket, out ulong generation, out WalkCursor walk, out bool hit, out ulong currentSequence)
    {
        Bracket mine = t_fastBracket ?? NewFastBracket();
        long state = Volatile.Read(ref _state.Value);
        if (mine.Space is not null || (state & (GateFlag | ClosingFlag)) != 0
            || Interlocked.CompareExchange(ref _state.Value, state + CountOne + LookerOne, state) != state)
        {
            Unsafe.SkipInit(out bracket);
            Unsafe.SkipInit(out generation);
            Unsafe.SkipInit(out walk);
            Unsafe.SkipInit(out hit);
            Unsafe.SkipInit(out currentSequence);
            return false;
        }

        // Counted, and looking: no tree change can begin until this lookup is over (a mutator
        // closes the gate, then waits for the lookers). A failure here would strand the count:
        // nothing below throws (the walk's first step reads an unchanging tree).
        mine.Space = this;
        mine.StartedAt = _metrics.InvalidationStarted();
        generation = mine.Generation;
        walk = new WalkCursor(_tree.Overlapping(range.Start, range.Last));
        hit = walk.MoveNext();
        if (hit)
        {
            // S odd before the lookup ends: a mutator that waited for the lookers then sees it.
            currentSequence = MakeOdd();
            long s;
            do
            {
                s = Volatile.Read(ref _state.Value);
            }
            while (Interlocked.CompareExchange(ref _state.Value, (s - LookerOne) | OddFlag, s) != s);
        }
        else
        {
            currentSequence = 0;
            Interlocked.Add(ref _state.Value, -LookerOne);
        }

        bracket = mine;
        return true;
    }

    // S |= 1, by a counted bracket that hit or by an insert while brackets are counted: S cannot
    // become even while one is counted (only the last end does that), and every concurrent
    // writer writes the same odd value, so a plain volatile store suffices. Returns the odd S,
    // the walk's cur_seq.
    private ulong MakeOdd()
    {
        ulong sequence = Volatile.Read(ref _sequence);
        if ((sequence & 1) == 0)
        {
            sequence |= 1;
            Volatile.Write(ref _sequence, sequence);
        }

        return sequence;
    }

    // The end of a fast bracket: one compare-and-swap claims the end (a second Dispose of the
    // scope, or a copy's, fails it), one more takes the count down. The last end of an odd
    // period makes S even: without the lock when nothing is pinned to it (no deferred change,
    // no waiter) and the gate is open; under the lock otherwise.
    private void EndFast(Bracket bracket, ulong generation)
    {
        if (Interlocked.CompareExchange(ref bracket.Generation, generation + 1, generation) != generation)
        {
            throw AlreadyEnded();
        }

        long startedAt = bracket.StartedAt;
        while (true)
        {
            long state = Volatile.Read(ref _state.Value);
            if ((state & CountMask) == 1 && (state & OddFlag) != 0 && (Planted & PlantedBugs.FastEndSkipsSlowPath) == 0)
            {
                if ((state & (PinnedFlag | GateFlag)) == 0)
                {
                    if (TryCloseOddPeriod(state))
                    {
                        break;
                    }

                    continue;
                }

                AsyncWaiter? woken;
                lock (_sync)
                {
                    AssertInvariants();
                    woken = EndLocked();
                }

                _waiters.Complete(woken);
                break;
            }

            if (Interlocked.CompareExchange(ref _state.Value, state - CountOne, state) == state)
            {
                break;
            }
        }

        Volatile.Write(ref bracket.Space, null); // the thread's bracket is free again
        _metrics.RecordInvalidationEnded(startedAt);
        ThrowIfEndedElsewhere(bracket.Owner);
    }

    // The last end of an odd period that nothing is pinned to, without the lock: one
    // compare-and-swap takes the count to zero, clears ODD and sets CLOSING, so that no begin
    // can count itself (fast begins see CLOSING, locked regions wait for it) before S is even;
    // then S++, then CLOSING is cleared. False when the word changed first (look again).
    // While CLOSING is set nobody else writes the word (the protocol comment, point 6): the
    // count is 0, so no bracket ends and no lookup leaves; begins and every locked region's
    // write wait for CLOSING or fail their compare-and-swap. So a plain store of the word this
    // end wrote, without CLOSING, clears it: no atomic (measured: 5 % of a one-hit invalidation).
    private bool TryCloseOddPeriod(long state)
    {
        Debug.Assert((state & (CountMask | OddFlag | PinnedFlag | GateFlag | ClosingFlag | LookerMask)) == (1 | OddFlag), "Only the last end of an unpinned odd period closes it without the lock.");
        long closing = (state - CountOne) & ~OddFlag | ClosingFlag;
        if (Interlocked.CompareExchange(ref _state.Value, closing, state) != state)
        {
            return false;
        }

        Volatile.Write(ref _sequence, _sequence + 1);
        Volatile.Write(ref _state.Value, closing & ~ClosingFlag); // release: S's new value is seen first
        return true;
    }

    // The count goes down; the last end of an odd period makes S even, applies the deferred
    // tree changes (no walk can be running now) and wakes every waiter, and the period's pin
    // goes. The gate is closed while it does (fast begins must not look up a changing tree) and
    // opened again after.
    private AsyncWaiter? EndLocked()
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        while (true)
        {
            long state = Volatile.Read(ref _state.Value);
            Debug.Assert((state & CountMask) > 0, "An end with no active bracket.");
            if ((state & CountMask) != 1 || (state & OddFlag) == 0)
            {
                if (Interlocked.CompareExchange(ref _state.Value, state - CountOne, state) == state)
                {
                    return null;
                }

                continue;
            }

            // The last bracket, and S is odd: no other bracket is counted, so none is looking.
            Debug.Assert((state & LookerMask) == 0, "A lookup runs while the last bracket ends.");
            if (Interlocked.CompareExchange(ref _state.Value, (state - CountOne) & ~(OddFlag | PinnedFlag) | GateFlag, state) != state)
            {
                continue; // a fast begin came in: it is not the last end any more
            }

            Volatile.Write(ref _sequence, _sequence + 1);
            ApplyDeferredLocked();
            AsyncWaiter? woken = _waiters.WakeAll();
            OpenGateLocked();
            return woken;
        }
    }

    // Under the lock: stop fast begins and wait for the lookups already running, so that the
    // tree may change and S's parity is final (a lookup that hit has made S odd before it ended;
    // a closing last end has made S even; no new lock-free last end starts while GATE is set).
    private void CloseGateLocked()
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        SetGateLocked();
        long state = WaitWhileLocked(((Planted & PlantedBugs.GateSkipsLookers) == 0 ? LookerMask : 0) | ClosingMaskUnlessPlanted);
        if ((state & GateFlag) == 0)
        {
            // Only this lock's holder clears GATE, and no closing's store can erase it (point 6 of
            // the protocol comment); a lost gate would let a lookup race the tree change. Never
            // seen; checked on this slow path so that a broken protocol fails here, not later.
            throw new InvalidOperationException("Internal error: the address space's gate was lost while a tree change waited for it.");
        }
    }

    // Under the lock: sets GATE, outside any closing. A lock-free last end clears CLOSING with a
    // plain store of the word it wrote (TryCloseOddPeriod), which would erase a flag set while
    // CLOSING is: so GATE is set by a compare-and-swap on a word without CLOSING. No new closing
    // can start once GATE is set.
    private void SetGateLocked()
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        if ((Planted & PlantedBugs.GateIgnoresClosing) != 0)
        {
            Interlocked.Or(ref _state.Value, GateFlag);
            return;
        }

        long state;
        do
        {
            state = SettledStateLocked();
        }
        while (Interlocked.CompareExchange(ref _state.Value, state | GateFlag, state) != state);
    }

    // CLOSING, or nothing when the systematic tests plant locked regions that do not wait for it.
    private long ClosingMaskUnlessPlanted => (Planted & PlantedBugs.ClosingIgnored) == 0 ? ClosingFlag : 0;

    // Under the lock: until a lock-free last end that is closing the odd period has made S even.
    // Its window is three instructions; a locked region must not read S or count a bracket inside it.
    private long SettledStateLocked() => WaitWhileLocked(ClosingMaskUnlessPlanted);

    // Under the lock: spins until none of `busy`'s bits is set in the state word, and returns the
    // word it read then. What it waits for (lookups, a closing) is a few hundred instructions at
    // most and never needs the lock: never sleep.
    private long WaitWhileLocked(long busy)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        long state = Volatile.Read(ref _state.Value);
        if ((state & busy) != 0)
        {
            var spin = default(SpinWait);
            do
            {
                spin.SpinOnce(sleep1Threshold: -1);
                state = Volatile.Read(ref _state.Value);
            }
            while ((state & busy) != 0);
        }

        return state;
    }

    // Under the lock, for a begin on the slow path: count the bracket, outside any closing (a
    // bracket counted while CLOSING is set could read S odd and see it made even under it).
    // Counted, an odd S stays odd until this bracket ends: every last end needs the count to be
    // 1, its own.
    private void CountLockedBegin()
    {
        long state;
        do
        {
            state = SettledStateLocked();
        }
        while (Interlocked.CompareExchange(ref _state.Value, state + CountOne, state) != state);
    }

    // Under the lock: pins the current odd period — its last end must then take the lock, which
    // the caller holds — and returns true, if S is odd; returns false if S is even (after any
    // closing is over). So a caller that got true may defer a tree change or wait for the
    // period's end, and S stays odd until it drops the lock. A caller that got false may see S
    // become odd at any moment (a fast begin that hits) unless it closes the gate.
    //
    // Why the re-read: the word may have gone through a whole lock-free closing and a new period
    // between the read and the compare-and-swap and come back to the same value (count 1 and a
    // begin still looking). PINNED is then set in a new period, which it pins if S is odd by
    // the re-read (no lock-free end can run after PINNED is set); if S is even there, the flag
    // stays until the next odd period's (locked) last end: one lock round trip, nothing more.
    private bool PinOddLocked()
    {
        while (true)
        {
            long state = SettledStateLocked();
            if ((Volatile.Read(ref _sequence) & 1) == 0)
            {
                return false;
            }

            if ((state & PinnedFlag) != 0 || (Planted & PlantedBugs.PinSkipped) != 0
                || Interlocked.CompareExchange(ref _state.Value, state | PinnedFlag, state) == state)
            {
                return (Volatile.Read(ref _sequence) & 1) != 0;
            }
        }
    }

    // Under the lock: let fast begins run again (not after teardown: every begin then throws on the slow path).
    private void OpenGateLocked()
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        if (_teardown == Teardown.None)
        {
            Interlocked.And(ref _state.Value, ~GateFlag);
        }
    }

    // Under the lock, before S's parity decides anything: while S is odd, pin the period (its
    // last end then waits for this lock, so S stays odd and every tree change is deferred);
    // while S is even a fast begin may be looking up its first hit, so close the gate and wait
    // for it (when the caller may change the tree): S's parity is final then, and pinned if odd.
    // `odd`: S is odd and its period pinned. Decide by it, not by reading S again: without the
    // gate, S may become odd after the pin found it even (then the caller changes nothing that a
    // period would have to apply: a subscription in any state but Subscribed and PendingInsert
    // exists only in a pinned period).
    private GateScope PinOrCloseGateLocked(bool mayChangeTree, out bool odd)
    {
        odd = PinOddLocked();
        if (odd || !mayChangeTree)
        {
            return default;
        }

        CloseGateLocked();
        odd = PinOddLocked(); // a lookup that hit before the gate closed has made S odd: pin that period too
        return new GateScope(this);
    }

    /// <summary>Opens the gate that <see cref="PinOrCloseGateLocked"/> closed, if it did, when disposed (under the lock).</summary>
    private readonly ref struct GateScope(AddressSpace? space)
    {
        public void Dispose() => space?.OpenGateLocked();
    }

    // Under the closed gate, after an insert while S is even: if brackets are active (they hit
    // nothing), S becomes odd so that they count as invalidating the new range (§5). The odd
    // flag goes into the state word only while the count is non-zero — atomically, since a fast
    // end may take the count to zero meanwhile (then the insert came after every bracket).
    private bool MakeOddIfActiveLocked()
    {
        long state;
        do
        {
            state = Volatile.Read(ref _state.Value);
            if ((state & CountMask) == 0)
            {
                return false;
            }
        }
        while (Interlocked.CompareExchange(ref _state.Value, state | OddFlag, state) != state);

        MakeOdd();
        return true;
    }
}
