using IntervalNotifier.Collections;
using Microsoft.Coyote.Specifications;

namespace IntervalNotifier.SystematicTests;

/// <summary>docs/contract.md §6 under Coyote: two-pass records, the record pool's caches, and the finish list.</summary>
public sealed class TwoPassScenarios(ITestOutputHelper output)
{
    private sealed class Record : FinishRecord
    {
        public int Owner;
        public int StartThread;
    }

    /// <summary>The records of one pool held right now (rented and not yet finished or returned), counted by their holders.</summary>
    private sealed class Held(int capacity)
    {
        private int _count;

        public void Take()
        {
            int now = Interlocked.Increment(ref _count);
            Specification.Assert(now <= capacity, $"{now} records held at once from a pool of {capacity}");
        }

        public void Give() => Interlocked.Decrement(ref _count);
    }

    /// <summary>A two-pass device with mark-and-check on its pooled records.</summary>
    private sealed class Device(FinishRecordPool<Record> pool, Held? held = null) : ITwoPassIntervalInvalidator
    {
        private static int s_nextOwner;
        public int Starts;
        public int Finishes;
        public int Fallbacks;

        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence) => true;

        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            Interlocked.Increment(ref Starts);
            subscription.SetSequence(currentSequence);
            if (!pool.TryRent(out Record? record))
            {
                Interlocked.Increment(ref Fallbacks);
                finish = null;
                return true;
            }

            held?.Take();
            int owner = Interlocked.Increment(ref s_nextOwner);
            Specification.Assert(Interlocked.CompareExchange(ref record.Owner, owner, 0) == 0, "a rented record is held by another owner");
            record.StartThread = Environment.CurrentManagedThreadId;
            finish = record;
            return true;
        }

        public void InvalidateFinish(FinishRecord finish)
        {
            var record = (Record)finish;
            Interlocked.Increment(ref Finishes);
            int owner = Volatile.Read(ref record.Owner);
            Specification.Assert(owner != 0, "a record was finished twice");
            Specification.Assert(record.StartThread == Environment.CurrentManagedThreadId, "a record was finished by another invalidation than the one that started it");
            Specification.Assert(Interlocked.CompareExchange(ref record.Owner, 0, owner) == owner, "a record changed owner during its finish");
            held?.Give();
        }
    }

    // d. Concurrent two-pass invalidations with pooled records (a pool smaller than the
    //    demand, so that fallbacks happen too): every record is finished once, by the
    //    invalidation that started it, and returned once; it is never held by two owners.
    private static async Task TwoPass()
    {
        using var space = new AddressSpace();
        var pool = new FinishRecordPool<Record>(2);
        var d1 = new Device(pool);
        var d2 = new Device(pool);
        space.Subscribe(0, 10, d1);
        space.Subscribe(5, 10, d2);

        Task Invalidate(ulong start, ulong end) => Task.Run(() => space.BeginInvalidation(new InvalidationRange(start, end)).Dispose());
        Task t1 = Invalidate(0, 20);
        Task t2 = Invalidate(6, 8);
        Task t3 = Invalidate(0, 1);
        await t1;
        await t2;
        await t3;

        Specification.Assert(pool.Rented == 0, $"{pool.Rented} records not returned");
        foreach (Device d in new[] { d1, d2 })
        {
            Specification.Assert(d.Starts == d.Finishes + d.Fallbacks, $"starts {d.Starts} != finishes {d.Finishes} + fallbacks {d.Fallbacks}");
        }

        Specification.Assert(d1.Starts == 3 && d2.Starts == 2, $"wrong hit counts: {d1.Starts}, {d2.Starts}");
    }

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S6_TwoPass_EveryRecordFinishedOnceReturnedOnce_NeverHeldTwice(uint seed) =>
        Systematic.AssertNoBug(TwoPass, seed, output);

    // The pool's fast path: per-thread caches that take records from the shared pool (or from
    //    each other) and spill back, under concurrent invalidations from several threads, two pools, faults on,
    //    and a user renting and returning directly on yet another thread. Every record is
    //    finished once and returned once, never held by two owners; the bound is never exceeded
    //    and every record is back at the end.
    private static async Task PoolCaches()
    {
        using var space = new AddressSpace();
        var small = new FinishRecordPool<Record>(2, AllocationFaults.Random(0.3, 7));
        var large = new FinishRecordPool<Record>(3, AllocationFaults.EveryNth(4));
        var heldSmall = new Held(small.Capacity);
        var heldLarge = new Held(large.Capacity);
        var devices = new[] { new Device(small, heldSmall), new Device(large, heldLarge), new Device(small, heldSmall) };
        space.Subscribe(0, 10, devices[0]);
        space.Subscribe(5, 10, devices[1]);
        space.Subscribe(8, 10, devices[2]);

        // The bound: the shared pool never claims more records than exist, and no more than
        // Capacity records are held at once (counted by their holders, see Held). Rented is a
        // sum over the threads' counts, exact only when nothing moves: checked at the end.
        void CheckBounds()
        {
            foreach (FinishRecordPool<Record> pool in new[] { small, large })
            {
                int available = pool.SharedAvailable;
                Specification.Assert(available >= 0 && available <= pool.Capacity, $"the shared pool claims {available} of {pool.Capacity} records");
            }
        }

        Task Invalidator(ulong start, ulong end) => Task.Run(() =>
        {
            for (int i = 0; i < 2; i++)
            {
                space.BeginInvalidation(new InvalidationRange(start, end)).Dispose();
                CheckBounds();
            }
        });
        Task user = Task.Run(() =>
        {
            for (int i = 0; i < 2; i++)
            {
                if (small.TryRent(out Record? r))
                {
                    heldSmall.Take();
                    Specification.Assert(Interlocked.CompareExchange(ref r.Owner, -1, 0) == 0, "a record rented directly is held by another owner");
                    CheckBounds();
                    Volatile.Write(ref r.Owner, 0);
                    heldSmall.Give();
                    small.Return(r);
                }
            }
        });

        Task t1 = Invalidator(0, 20);
        Task t2 = Invalidator(6, 9);
        Task t3 = Invalidator(9, 12);
        await t1;
        await t2;
        await t3;
        await user;

        CheckBounds();
        Specification.Assert(small.Rented == 0 && large.Rented == 0, $"records not returned: {small.Rented}, {large.Rented}");
        foreach (Device d in devices)
        {
            Specification.Assert(d.Starts == d.Finishes + d.Fallbacks, $"starts {d.Starts} != finishes {d.Finishes} + fallbacks {d.Fallbacks}");
        }
    }

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S6_PoolCaches_RefillAndSpillUnderConcurrentInvalidations_EveryRecordFinishedAndReturnedOnce(uint seed) =>
        Systematic.AssertNoBug(PoolCaches, seed, output);

    // The steal protocol (docs/contract.md §6, the bound is the capacity): a rent that finds its
    //    own cache and the shared pool empty takes records from other threads' caches while their
    //    owners push and pop on the fast path. Three threads rent and return one pool of two
    //    records; the owner of the first cache then parks (blocked, holding nothing, its cache
    //    full) and another thread must rent both records from it. Plain field accesses are
    //    scheduling points here (race checking), so a stealer can meet an owner inside its push
    //    or pop. Every record is held by one holder at a time, never more than two at once, and
    //    all are back at the end.
    private static async Task PoolSteal()
    {
        var pool = new FinishRecordPool<Record>(2);
        var held = new Held(pool.Capacity);
        using var parked = new SemaphoreSlim(0);
        using var resume = new SemaphoreSlim(0);

        void Churn(int owner, int rounds)
        {
            for (int i = 0; i < rounds; i++)
            {
                if (pool.TryRent(out Record? r))
                {
                    held.Take();
                    Specification.Assert(Interlocked.CompareExchange(ref r.Owner, owner, 0) == 0, "a rented record is held by another owner");
                    Specification.Assert(Interlocked.CompareExchange(ref r.Owner, 0, owner) == owner, "a record changed owner while held");
                    held.Give();
                    pool.Return(r);
                }
            }
        }

        Task idle = Task.Run(() =>
        {
            Churn(1, 2);
            var mine = new List<Record>(); // rent what it can, then return it all: into this thread's cache
            while (pool.TryRent(out Record? r))
            {
                held.Take();
                mine.Add(r);
            }

            foreach (Record r in mine)
            {
                held.Give();
                pool.Return(r);
            }

            parked.Release();
            resume.Wait(); // blocked: this thread never comes back to the pool by itself
        });
        Task other = Task.Run(() => Churn(2, 2));
        Task third = Task.Run(() => Churn(3, 1));
        await other;
        await third;
        await parked.WaitAsync();

        // Everything is back, in whichever caches: a thread that never used the pool rents both.
        Task fresh = Task.Run(() =>
        {
            Specification.Assert(pool.Rented == 0, $"{pool.Rented} records out while every thread is done or parked");
            Specification.Assert(pool.TryRent(out Record? a), "a rent failed with no record out");
            Specification.Assert(pool.TryRent(out Record? b), "a rent failed with one record out");
            Specification.Assert(!ReferenceEquals(a, b), "one record rented twice");
            Specification.Assert(!pool.TryRent(out Record? _), "a rent beyond the capacity succeeded");
            pool.Return(a!);
            pool.Return(b!);
        });
        await fresh;
        resume.Release();
        await idle;
        Specification.Assert(pool.Rented == 0, $"{pool.Rented} records not returned");
    }

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S6_PoolSteal_RentsReachRecordsInLiveAndParkedThreadsCaches_NeverTwice(uint seed) =>
        Systematic.AssertNoBug(PoolSteal, seed, output, raceChecking: true);

    // g. The pool's stack of records returned on other threads (an asynchronous finish's
    //    continuation returns records it did not rent). One thread rents all three records of a
    //    pool, another returns them (onto the stack); then two threads with empty caches rent at
    //    once. The first to find the stack moves it into its cache, the other must still find a
    //    record — on the stack or in that cache, never between the two — since two of three at
    //    most are out. With `plantBug`, the stack is taken before the pool's lock: the other rent
    //    can then see no record anywhere and fail.
    private static Func<Task> PoolReturnedStack(bool plantBug) => async () =>
    {
        var pool = new FinishRecordPool<Record>(3) { PlantedTakesReturnedOutsideLock = plantBug };
        var held = new Held(pool.Capacity);
        List<Record> rented = await Task.Run(() =>
        {
            var all = new List<Record>();
            while (pool.TryRent(out Record? r))
            {
                all.Add(r);
            }

            return all;
        });
        Specification.Assert(rented.Count == 3, $"{rented.Count} of three records rented from a full pool");
        await Task.Run(() => rented.ForEach(pool.Return)); // on a thread that never rented: onto the stack

        Record RentOne(int owner)
        {
            Specification.Assert(pool.TryRent(out Record? r), "a rent failed with at most one other record out");
            held.Take();
            Specification.Assert(Interlocked.CompareExchange(ref r!.Owner, owner, 0) == 0, "a rented record is held by another owner");
            return r;
        }

        Task<Record> first = Task.Run(() => RentOne(1));
        Task<Record> second = Task.Run(() => RentOne(2));
        Record a = await first;
        Record b = await second;
        Specification.Assert(!ReferenceEquals(a, b), "one record rented twice");
        foreach (Record r in new[] { a, b })
        {
            r.Owner = 0;
            held.Give();
            pool.Return(r);
        }

        Specification.Assert(pool.Rented == 0, $"{pool.Rented} records not returned");
        await Task.Run(() =>
        {
            var all = new List<Record>();
            while (pool.TryRent(out Record? r))
            {
                all.Add(r);
            }

            Specification.Assert(all.Distinct().Count() == 3, $"{all.Distinct().Count()} distinct records rentable of three");
            all.ForEach(pool.Return);
        });
    };

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S6_PoolReturnedStack_RentsRacingTheMoveOfReturnedRecords_FindEveryFreeRecord(uint seed) =>
        Systematic.AssertNoBug(PoolReturnedStack(plantBug: false), seed, output);

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S6_PoolReturnedStack_PlantedBug_TheStackTakenOutsideTheLock_IsFound(uint seed) =>
        Systematic.AssertFindsBug(PoolReturnedStack(plantBug: true), seed, output);

    private sealed class Item(int id) : TreiberStackNode<Item>
    {
        public int Id { get; } = id;

        public Item? BrokenNext;
    }

    /// <summary>A planted bug: a Treiber push that reads the head and writes it back without a compare-and-swap.</summary>
    private sealed class BrokenStack
    {
        private Item? _head;

        public void Push(Item item)
        {
            Item? head = Volatile.Read(ref _head);
            item.BrokenNext = head;
            Volatile.Write(ref _head, item);
        }

        public Item? TakeAll() => Interlocked.Exchange(ref _head, null);
    }

    // e. The finish list: two threads push while a third takes all, repeatedly; at the end
    //    every item was taken exactly once.
    private static Func<Task> FinishList(bool plantBug) => async () =>
    {
        const int PerPusher = 3;
        var stack = new TreiberStack<Item>();
        var broken = new BrokenStack();
        int[] seen = new int[2 * PerPusher];

        void Drain(Item? chain, bool brokenLinks)
        {
            for (; chain is not null; chain = brokenLinks ? chain.BrokenNext : chain.Next)
            {
                seen[chain.Id]++;
            }
        }

        Task Pusher(int offset) => Task.Run(() =>
        {
            for (int i = 0; i < PerPusher; i++)
            {
                var item = new Item(offset + i);
                if (plantBug)
                {
                    broken.Push(item);
                }
                else
                {
                    stack.Push(item);
                }
            }
        });

        Task p1 = Pusher(0);
        Task p2 = Pusher(PerPusher);
        Task taker = Task.Run(() =>
        {
            for (int round = 0; round < 2; round++)
            {
                Drain(plantBug ? broken.TakeAll() : stack.TakeAllInPushOrder(), plantBug);
            }
        });
        await p1;
        await p2;
        await taker;
        Drain(plantBug ? broken.TakeAll() : stack.TakeAll(), plantBug);

        for (int id = 0; id < seen.Length; id++)
        {
            Specification.Assert(seen[id] == 1, $"item {id} was taken {seen[id]} times");
        }
    };

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S6_FinishList_ConcurrentPushesRacingTakeAll_LoseAndDuplicateNothing(uint seed) =>
        Systematic.AssertNoBug(FinishList(plantBug: false), seed, output);

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S6_FinishList_FindsAPushWithoutCompareAndSwap(uint seed) =>
        Systematic.AssertFindsBug(FinishList(plantBug: true), seed, output);
}
