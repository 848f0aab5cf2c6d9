using Microsoft.Coyote.Specifications;

namespace IntervalNotifier.SystematicTests;

/// <summary>
/// docs/contract.md §3 under Coyote: the sequence protocol (mirror coherence), many writers, and
/// the read side, explored over thousands of schedules.
/// Inside a scenario, <see cref="Specification.Assert(bool, string)"/> reports a bug with its schedule.
/// </summary>
public sealed class ProtocolScenarios(ITestOutputHelper output)
{
    /// <summary>A one-page device mirror: its copy of the primary, guarded by its own lock.</summary>
    private sealed class Mirror : IIntervalInvalidator
    {
        public readonly object Lock = new();
        public long Value;
        public bool Valid;
        public bool SkipsRetry;

        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
        {
            lock (Lock)
            {
                subscription.SetSequence(currentSequence);
                Valid = false;
            }

            return true;
        }

        /// <summary>The §3 fault path: read_begin, read the primary, then under the lock retry-check and publish.</summary>
        public void Fault(IntervalSubscription subscription, Func<long> readPrimary)
        {
            while (true)
            {
                ulong seq = subscription.ReadBegin();
                long value = readPrimary();
                lock (Lock)
                {
                    if (!SkipsRetry && subscription.ReadRetry(seq))
                    {
                        continue;
                    }

                    Value = value;
                    Valid = true;
                }

                return;
            }
        }
    }

    // a. Mirror coherence: a fault races an invalidation that changes the primary inside its
    //    bracket. After begin returns, the mirror holds no copy of the range; at the end, any
    //    copy it holds equals the primary.
    private static Func<Task> Coherence(bool plantBug) => async () =>
    {
        using var space = new AddressSpace();
        var mirror = new Mirror { SkipsRetry = plantBug };
        IntervalSubscription sub = space.Subscribe(0, 1, mirror);
        long primary = 0;

        Task fault = Task.Run(() => mirror.Fault(sub, () => Volatile.Read(ref primary)));
        Task invalidate = Task.Run(() =>
        {
            using (space.BeginInvalidation(new InvalidationRange(0, 1)))
            {
                lock (mirror.Lock)
                {
                    Specification.Assert(!mirror.Valid, "a copy survived the begin of its invalidation");
                }

                Volatile.Write(ref primary, 1);
            }
        });

        await fault;
        await invalidate;
        lock (mirror.Lock)
        {
            Specification.Assert(!mirror.Valid || mirror.Value == Volatile.Read(ref primary),
                $"stale mirror: {mirror.Value}, primary {Volatile.Read(ref primary)}");
        }
    };

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S3_Coherence_NoStaleCopySurvivesBegin(uint seed) => Systematic.AssertNoBug(Coherence(plantBug: false), seed, output, raceChecking: true);

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S3_Coherence_FindsAMirrorThatSkipsReadRetry(uint seed) => Systematic.AssertFindsBug(Coherence(plantBug: true), seed, output);

    // b. Many writers: three threads open overlapping and disjoint brackets while a reader
    //    waits on a subscription. S is odd inside every bracket that hit something, even and
    //    idle at the end, and every waiter is released (a waiter left behind is a deadlock).
    private static async Task ManyWriters()
    {
        using var space = new AddressSpace();
        IntervalSubscription a = space.Subscribe(0, 10, new Mirror());
        space.Subscribe(5, 10, new Mirror());
        space.Subscribe(100, 10, new Mirror());

        Task Writer(ulong start, ulong end, bool hits) => Task.Run(() =>
        {
            ulong before = space.Sequence;
            using (space.BeginInvalidation(new InvalidationRange(start, end)))
            {
                ulong during = space.Sequence;
                Specification.Assert(!hits || (during & 1) == 1, $"S = {during} is even inside a bracket that hit a subscription");
                Specification.Assert(during >= before, "S went backwards");
                Specification.Assert(space.ActiveInvalidations >= 1, "no active invalidation inside a bracket");
            }
        });

        Task reader = Task.Run(() =>
        {
            ulong seq = a.ReadBegin();
            Specification.Assert(seq != space.Sequence, "ReadBegin returned while its subscription was being invalidated");
        });

        Task w1 = Writer(0, 8, hits: true);
        Task w2 = Writer(6, 12, hits: true);
        Task w3 = Writer(50, 60, hits: false);
        await w1;
        await w2;
        await w3;
        await reader;
        Specification.Assert(space.ActiveInvalidations == 0, "an invalidation is still active");
        Specification.Assert((space.Sequence & 1) == 0, $"S = {space.Sequence} is odd while idle");
    }

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S3_ManyWriters_SequenceOddExactlyWhileInvalidating_EveryWaiterReleased(uint seed) =>
        Systematic.AssertNoBug(ManyWriters, seed, output);

    // f. The read side, including the lock-free fast path: a value ReadBegin returns is never
    //    the sequence of an invalidation still running (it would have had to wait), and a
    //    reader that reads s before S (as ReadBegin does) never misses an invalidation.
    private static Func<Task> ReadSide(bool readSequenceFirst) => async () =>
    {
        using var space = new AddressSpace();
        var mirror = new Mirror();
        IntervalSubscription sub = space.Subscribe(0, 1, mirror);

        ulong Read() => readSequenceFirst ? BrokenReadBegin(space, sub) : sub.ReadBegin();

        Task reader = Task.Run(() =>
        {
            ulong seq = Read();
            Specification.Assert(seq != space.Sequence, $"read begin returned {seq} while that invalidation was still running");
        });
        Task asyncReader = Task.Run(async () =>
        {
            ulong seq = await sub.ReadBeginAsync();
            Specification.Assert(seq != space.Sequence, $"ReadBeginAsync returned {seq} while that invalidation was still running");
        });
        Task invalidator = Task.Run(() => space.BeginInvalidation(new InvalidationRange(0, 1)).Dispose());

        await reader;
        await asyncReader;
        await invalidator;
    };

    // The bug the read order guards against: S read before s.
    private static ulong BrokenReadBegin(AddressSpace space, IntervalSubscription sub)
    {
        ulong global = space.Sequence;
        ulong mine = sub.Sequence;
        return mine != global ? mine : sub.ReadBegin();
    }

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S3_ReadSide_LockFreeReadBeginNeverReturnsARunningInvalidationsSequence(uint seed) =>
        Systematic.AssertNoBug(ReadSide(readSequenceFirst: false), seed, output, raceChecking: true);

    // f, continued: subscriptions made while invalidations run are seeded so that the read side
    // waits for them (a deferred insert gets s = S; a subscribe while brackets hit nothing makes
    // S odd and gets s = S). A mirror faulting through such a subscription, racing invalidations
    // that change the primary, never keeps a stale copy.
    private static async Task ReadSideWithNewSubscriptions()
    {
        using var space = new AddressSpace();
        space.Subscribe(0, 1, new Mirror());
        long primaryLow = 0, primaryHigh = 0;
        var low = new Mirror();
        var high = new Mirror();

        Task lowInvalidator = Task.Run(() =>
        {
            using (space.BeginInvalidation(new InvalidationRange(0, 1))) // hits: S odd
            {
                Volatile.Write(ref primaryLow, 1);
            }
        });
        Task highInvalidator = Task.Run(() =>
        {
            using (space.BeginInvalidation(new InvalidationRange(100, 101))) // hits nothing (yet)
            {
                Volatile.Write(ref primaryHigh, 1);
            }
        });
        Task lowMirror = Task.Run(() =>
        {
            IntervalSubscription sub = space.Subscribe(0, 1, low); // maybe deferred
            low.Fault(sub, () => Volatile.Read(ref primaryLow));
        });
        Task highMirror = Task.Run(() =>
        {
            IntervalSubscription sub = space.Subscribe(100, 1, high); // maybe while a bracket is open but even
            high.Fault(sub, () => Volatile.Read(ref primaryHigh));
        });

        await lowInvalidator;
        await highInvalidator;
        await lowMirror;
        await highMirror;
        foreach ((Mirror m, long primary) in new[] { (low, Volatile.Read(ref primaryLow)), (high, Volatile.Read(ref primaryHigh)) })
        {
            lock (m.Lock)
            {
                Specification.Assert(!m.Valid || m.Value == primary, $"stale copy {m.Value} of primary {primary} through a new subscription");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S3_ReadSide_NewSubscriptionsDuringInvalidations_NeverKeepAStaleCopy(uint seed) =>
        Systematic.AssertNoBug(ReadSideWithNewSubscriptions, seed, output, raceChecking: true);

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S3_ReadSide_FindsAReadBeginThatReadsTheGlobalSequenceFirst(uint seed) =>
        Systematic.AssertFindsBug(ReadSide(readSequenceFirst: true), seed, output);
}
