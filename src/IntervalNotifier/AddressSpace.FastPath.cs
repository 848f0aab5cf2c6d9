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
    // use (a nested bracket), or another begin or end changed the word first.
    private bool TryOpenFast(in InvalidationRange range, [NotNullWhen(true)] out Bracket? bracket, out ulong generation, out WalkCursor walk, out bool hit, out ulong currentSequence)
    {
        Bracket mine = t_fastBracket ?? NewFastBracket();
        long state = Volatile.Read(ref _state.Value);
        if (mine.Space is not null || (state & GateFlag) != 0
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
    // scope, or a copy's, fails it), one more takes the count down. Only the last end of an odd
    // period has work (S even, deferred changes, waiters): it takes the lock.
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

    // The count goes down; the last end of an odd period makes S even, applies the deferred
    // tree changes (no walk can be running now) and wakes every waiter. The gate is closed while
    // it does (fast begins must not look up a changing tree) and opened again after.
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
            if (Interlocked.CompareExchange(ref _state.Value, (state - CountOne) & ~OddFlag | GateFlag, state) != state)
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
    // tree may change and S's parity is final (a lookup that hit has made S odd before it ended).
    private void CloseGateLocked()
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        Interlocked.Or(ref _state.Value, GateFlag);
        var spin = default(SpinWait);
        while ((Volatile.Read(ref _state.Value) & LookerMask) != 0 && (Planted & PlantedBugs.GateSkipsLookers) == 0)
        {
            spin.SpinOnce(sleep1Threshold: -1); // a lookup is a few hundred instructions: never sleep
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

    // Under the lock, before S's parity decides anything: while S is even a fast begin may be
    // looking up its first hit, so close the gate and wait for it (when the caller may change
    // the tree); S's parity is final then. While S is odd nothing needs closing: only the last
    // end, under the lock, makes it even, and every tree change is deferred.
    private GateScope CloseGateWhileEvenLocked(bool mayChangeTree)
    {
        if (!mayChangeTree || (Volatile.Read(ref _sequence) & 1) != 0)
        {
            return default;
        }

        CloseGateLocked();
        return new GateScope(this);
    }

    /// <summary>Opens the gate that <see cref="CloseGateWhileEvenLocked"/> closed, if it did, when disposed (under the lock).</summary>
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
