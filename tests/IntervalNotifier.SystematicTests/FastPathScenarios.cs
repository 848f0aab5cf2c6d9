using IntervalNotifier.Internal;
using Microsoft.Coyote.Specifications;

namespace IntervalNotifier.SystematicTests;

/// <summary>
/// The lock-free fast path of begin and end (AddressSpace.cs, the protocol comment) under
/// Coyote: fast begins (one hitting, one hitting nothing) racing each other's last end, a
/// subscribe, an unsubscribe and a waiting <c>ReadBegin</c>. Checked at every step: every
/// callback sees an odd <c>cur_seq</c> equal to S (S cannot change while a bracket that hit is
/// counted); when an unsubscribe returns no callback of it runs; no waiter is stranded (Coyote
/// reports a deadlock); at the end S is even, nothing is active, and the subscribe made during
/// the race is in the tree exactly once. The controls plant the bugs the fast path must not
/// have: a last end that skips the slow path, a gate that lets a tree change race a lookup, a
/// locked region that defers or waits without pinning the odd period (whose last end may then
/// run without the lock), locked regions that do not wait for a lock-free last end's closing,
/// a reader that waits on a read of S made after its pin found S even, and a gate set while a
/// lock-free last end is closing (whose plain store of the word then erases it).
/// </summary>
public sealed class FastPathScenarios(ITestOutputHelper output)
{
    /// <summary>A subscriber that checks the sequence it is given, and that it is not called after its unsubscribe returned.</summary>
    private sealed class Checked(AddressSpace space) : IIntervalInvalidator
    {
        public volatile bool Unsubscribed;
        public int Calls;

        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
        {
            Specification.Assert(!Unsubscribed, "a callback ran after Unsubscribe of its subscription returned");
            Specification.Assert((currentSequence & 1) == 1, $"a callback was given an even cur_seq {currentSequence}");
            Specification.Assert(currentSequence == space.Sequence, $"S changed to {space.Sequence} while a bracket given {currentSequence} was counted");
            subscription.SetSequence(currentSequence);
            Interlocked.Increment(ref Calls);
            return true;
        }
    }

    // Once every bracket of a scenario has ended: S is even and nothing is counted.
    private static void AssertAllEnded(AddressSpace space)
    {
        Specification.Assert((space.Sequence & 1) == 0, $"S is {space.Sequence}, odd, after every bracket ended");
        Specification.Assert(space.ActiveInvalidations == 0, $"{space.ActiveInvalidations} brackets active after every bracket ended");
    }

    private static Func<Task> Race(PlantedBugs planted) => async () =>
    {
        using var space = new AddressSpace { Planted = planted };
        var x = new Checked(space);
        var y = new Checked(space);
        var z = new Checked(space);
        IntervalSubscription xs = space.Subscribe(0, 1, x);
        IntervalSubscription ys = space.Subscribe(10, 1, y);

        // Two fast begins each (the first invalidation on a thread allocates its bracket and
        // still takes the fast path): one range hits x, one hits y.
        Task hitsX = Task.Run(() =>
        {
            space.BeginInvalidation(new InvalidationRange(0, 1)).Dispose();
            space.BeginInvalidation(new InvalidationRange(0, 1)).Dispose();
        });
        Task hitsY = Task.Run(() =>
        {
            space.BeginInvalidation(new InvalidationRange(20, 21)).Dispose(); // hits nothing
            space.BeginInvalidation(new InvalidationRange(10, 11)).Dispose();
        });
        Task unsubscribes = Task.Run(() =>
        {
            xs.Unsubscribe();
            x.Unsubscribed = true;
        });
        Task subscribes = Task.Run(() => space.Subscribe(30, 1, z));
        Task reads = Task.Run(() =>
        {
            ulong seq = ys.ReadBegin();
            Specification.Assert(seq != space.Sequence, $"ReadBegin returned {seq} while that invalidation was still running");
        });

        await hitsX;
        await hitsY;
        await unsubscribes;
        await subscribes;
        await reads;

        AssertAllEnded(space);
        Specification.Assert(space.SubscriptionCount == 2, $"{space.SubscriptionCount} live subscriptions, not 2");
        space.BeginInvalidation(new InvalidationRange(30, 31)).Dispose();
        Specification.Assert(z.Calls == 1, $"the subscription made during the race got {z.Calls} callbacks from one invalidation of its range");
    };

    // The lock-free last end (an odd period nothing is pinned to ends without the lock) racing
    // the locked regions that must respect it: a nested begin (the thread's fast bracket is in
    // use, so it takes the lock and counts itself there), a ReadBegin that must wait for the
    // period (it pins it), and a subscribe over the invalidated range (deferred while S is odd:
    // it pins the period too, or is inserted at once). Checked as in Race: every callback's
    // cur_seq is S's odd value while its bracket is counted, no waiter is stranded, the insert
    // is applied, S is even at the end.
    private static Func<Task> Closing(PlantedBugs planted) => async () =>
    {
        using var space = new AddressSpace { Planted = planted };
        var x = new Checked(space);
        var z = new Checked(space);
        IntervalSubscription xs = space.Subscribe(0, 1, x);

        Task ends = Task.Run(() =>
        {
            space.BeginInvalidation(new InvalidationRange(0, 1)).Dispose();
            space.BeginInvalidation(new InvalidationRange(0, 1)).Dispose();
        });
        Task nested = Task.Run(() =>
        {
            using InvalidationScope outer = space.BeginInvalidation(new InvalidationRange(20, 21)); // fast, hits nothing
            space.BeginInvalidation(new InvalidationRange(0, 1)).Dispose(); // slow: the thread's fast bracket is in use
        });
        Task reads = Task.Run(() =>
        {
            ulong seq = xs.ReadBegin();
            Specification.Assert(seq != space.Sequence, $"ReadBegin returned {seq} while that invalidation was still running");
        });
        Task subscribes = Task.Run(() => space.Subscribe(1, 1, z));

        await ends;
        await nested;
        await reads;
        await subscribes;

        AssertAllEnded(space);
        int before = z.Calls;
        space.BeginInvalidation(new InvalidationRange(1, 2)).Dispose();
        Specification.Assert(z.Calls == before + 1, $"the subscription made during the race got {z.Calls - before} callbacks from one invalidation of its range");
    };

    // A reader that must wait, against back-to-back one-hit invalidations whose last ends take
    // no lock: its slow path may find S even at its pin and odd again (a new period, already
    // invalidating the subscription) when it reads s and S; it must pin that period before it
    // waits, or the period's lock-free last end never wakes it (Coyote reports a deadlock).
    // The planted bug needs the reader preempted at three exact points: Coyote's default
    // portfolio finds it after 150-2,700 schedules with the fixed seeds (Debug and Release), so
    // this scenario explores 6,000 per seed (a small scenario: a few seconds).
    private const uint RereadsIterations = 6_000;

    // An unsubscribe (a tree change while S is even: it sets GATE, waits for the lookups, then
    // removes) racing back-to-back one-hit invalidations of the subscription it removes, whose
    // last ends take no lock. A lock-free last end clears CLOSING with a plain store, so GATE
    // must never be set while CLOSING is: erased, it would let the next fast begin find the
    // subscription while the unsubscribe removes it, and call it after Unsubscribe returned.
    // The planted bug (GATE set by an atomic OR at any time) is found when the OR lands inside a
    // closing: the tree change then finds its gate gone (AddressSpace.CloseGateLocked checks)
    // after 100-454 schedules with the fixed seeds (Release). Without that check, only the
    // downstream failure shows, a callback after its Unsubscribe returned, and in only 2 of the
    // 4 seeds' 6,000 schedules.
    private static Func<Task> GateDuringClosing(PlantedBugs planted) => async () =>
    {
        using var space = new AddressSpace { Planted = planted };
        var x = new Checked(space);
        var y = new Checked(space);
        IntervalSubscription xs = space.Subscribe(0, 1, x);

        // Three tree changes while the invalidations run: each sets GATE, at any point of a closing.
        Task ends = Task.Run(() =>
        {
            for (int i = 0; i < 4; i++)
            {
                space.BeginInvalidation(new InvalidationRange(0, 1)).Dispose();
            }
        });
        Task unsubscribes = Task.Run(() =>
        {
            xs.Unsubscribe();
            x.Unsubscribed = true;
            IntervalSubscription ys = space.Subscribe(0, 1, y);
            ys.Unsubscribe();
            y.Unsubscribed = true;
        });

        await ends;
        await unsubscribes;
        AssertAllEnded(space);
        Specification.Assert(space.SubscriptionCount == 0, $"{space.SubscriptionCount} live subscriptions after the unsubscribe, not 0");
    };

    private static Func<Task> Rereads(PlantedBugs planted) => async () =>
    {
        using var space = new AddressSpace { Planted = planted };
        var x = new Checked(space);
        IntervalSubscription xs = space.Subscribe(0, 1, x);

        // The reader starts while x is being invalidated (s == S), so it takes the slow path;
        // then that period ends and back-to-back fast invalidations of x follow.
        InvalidationScope first = await space.BeginInvalidationAsync(new InvalidationRange(0, 1));
        Task reads = Task.Run(() =>
        {
            for (int i = 0; i < 2; i++)
            {
                ulong seq = xs.ReadBegin();
                Specification.Assert(seq != space.Sequence, $"ReadBegin returned {seq} while that invalidation was still running");
            }
        });
        Task ends = Task.Run(() =>
        {
            first.Dispose();
            for (int i = 0; i < 3; i++)
            {
                space.BeginInvalidation(new InvalidationRange(0, 1)).Dispose();
            }
        });

        await ends;
        await reads;
        Specification.Assert((space.Sequence & 1) == 0, $"S is {space.Sequence}, odd, after every bracket ended");
    };

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void FastPath_AnUnsubscribeRacingBackToBackLockFreeLastEnds(uint seed) =>
        Systematic.AssertNoBug(GateDuringClosing(PlantedBugs.None), seed, output);

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void FastPath_FindsAGateSetDuringAClosing(uint seed) =>
        Systematic.AssertFindsBug(GateDuringClosing(PlantedBugs.GateIgnoresClosing), seed, output);

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void FastPath_AReaderRacingBackToBackLockFreeLastEnds(uint seed) =>
        Systematic.AssertNoBug(Rereads(PlantedBugs.None), seed, output, minimumIterations: RereadsIterations);

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void FastPath_FindsAReaderThatWaitsInAPeriodItDidNotPin(uint seed) =>
        Systematic.AssertFindsBug(Rereads(PlantedBugs.ReaderIgnoresPin), seed, output, minimumIterations: RereadsIterations);

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void FastPath_LockFreeLastEndRacingANestedBeginAReaderAndASubscribe(uint seed) =>
        Systematic.AssertNoBug(Closing(PlantedBugs.None), seed, output);

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void FastPath_FindsARegionThatDoesNotPinTheOddPeriod(uint seed) =>
        Systematic.AssertFindsBug(Closing(PlantedBugs.PinSkipped), seed, output);

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void FastPath_FindsLockedRegionsThatDoNotWaitForAClosing(uint seed) =>
        Systematic.AssertFindsBug(Closing(PlantedBugs.ClosingIgnored), seed, output);

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void FastPath_BeginsRacingTheLastEndASubscribeAnUnsubscribeAndAReader(uint seed) =>
        Systematic.AssertNoBug(Race(PlantedBugs.None), seed, output);

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void FastPath_FindsALastEndThatSkipsTheSlowPath(uint seed) =>
        Systematic.AssertFindsBug(Race(PlantedBugs.FastEndSkipsSlowPath), seed, output);

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void FastPath_FindsAGateThatDoesNotWaitForTheLookups(uint seed) =>
        Systematic.AssertFindsBug(Race(PlantedBugs.GateSkipsLookers), seed, output);
}
