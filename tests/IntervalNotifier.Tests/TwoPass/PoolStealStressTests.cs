using System.Collections.Concurrent;

namespace IntervalNotifier.Tests.TwoPass;

/// <summary>
/// docs/contract.md §6, the pool's bound is its capacity, under load: threads that rent, return
/// and park (holding nothing or some records), threads that end, fresh threads that never
/// returned anything, and one thread that uses more pools than it has cache slots. Bounded in
/// time and rounds, seeded, the seed printed on failure.
/// </summary>
[Trait("Category", "Stress")]
public sealed class PoolStealStressTests(ITestOutputHelper output)
{
    private const int Capacity = 12;
    private const int Parkers = 3;
    private const int EndersPerRound = 2;

    /// <summary>Who holds which record: a record held twice, or more than Capacity at once, is an error.</summary>
    private sealed class Holdings(int seed)
    {
        private int _out;

        public ConcurrentQueue<string> Errors { get; } = new();

        public void Take(DeviceRecord record, long holder)
        {
            long previous = Interlocked.CompareExchange(ref record.Owner, holder, 0);
            if (previous != 0)
            {
                Errors.Enqueue($"seed {seed}: a record rented by {holder} is held by {previous}");
            }

            int now = Interlocked.Increment(ref _out);
            if (now > Capacity)
            {
                Errors.Enqueue($"seed {seed}: {now} records held at once from a pool of {Capacity}");
            }
        }

        public void Give(DeviceRecord record, long holder)
        {
            Interlocked.Decrement(ref _out);
            long previous = Interlocked.CompareExchange(ref record.Owner, 0, holder);
            if (previous != holder)
            {
                Errors.Enqueue($"seed {seed}: {holder} returns a record held by {previous}");
            }
        }
    }

    /// <summary>Rents and returns at random, with yields, then keeps exactly <paramref name="keep"/> records (fewer if rents fail).</summary>
    private static void Churn(FinishRecordPool<DeviceRecord> pool, Holdings holdings, long id, Random random, List<DeviceRecord> held, int keep, Action? between = null)
    {
        int ops = random.Next(20, 120);
        for (int i = 0; i < ops; i++)
        {
            between?.Invoke();
            if (held.Count < 4 && random.Next(3) != 0)
            {
                if (pool.TryRent(out DeviceRecord? r))
                {
                    holdings.Take(r, id);
                    held.Add(r);
                }
            }
            else if (held.Count > 0)
            {
                int at = random.Next(held.Count);
                DeviceRecord r = held[at];
                held.RemoveAt(at);
                holdings.Give(r, id);
                pool.Return(r);
            }

            if (random.Next(8) == 0)
            {
                Thread.Yield();
            }
        }

        while (held.Count > keep)
        {
            DeviceRecord r = held[^1];
            held.RemoveAt(held.Count - 1);
            holdings.Give(r, id);
            pool.Return(r);
        }

        while (held.Count < keep && pool.TryRent(out DeviceRecord? r))
        {
            holdings.Take(r, id);
            held.Add(r);
        }
    }

    [Theory]
    [InlineData(2001)]
    [InlineData(2002)]
    public void ParkedEndedAndFreshThreads_EveryRentBelowCapacitySucceeds_NoneBeyond_NoRecordHeldTwice(int seed)
    {
        try
        {
            Run(seed);
        }
        catch
        {
            output.WriteLine($"seed = {seed}");
            throw;
        }
    }

    private void Run(int seed)
    {
        var pool = new FinishRecordPool<DeviceRecord>(Capacity);
        FinishRecordPool<DeviceRecord>[] otherPools = [.. Enumerable.Range(0, RecordCaches.SlotsPerThread + 1).Select(_ => new FinishRecordPool<DeviceRecord>(2))];
        var holdings = new Holdings(seed);
        var random = new Random(seed);
        var stop = DateTime.UtcNow + Waiting.Stress(TimeSpan.FromSeconds(2));
        const int MaxRounds = 400;
        bool stopping = false;

        // Parked threads (the last one also uses more pools than it has slots): each round they
        // churn, then keep a number of records the main thread chose, report, and block.
        int threadCount = Parkers + 1;
        var go = new SemaphoreSlim[threadCount];
        using var parked = new SemaphoreSlim(0);
        int[] keep = new int[threadCount];
        int[] kept = new int[threadCount];
        var threads = new List<Task>();
        for (int t = 0; t < threadCount; t++)
        {
            go[t] = new SemaphoreSlim(0);
            int index = t;
            bool multiPool = t == Parkers;
            threads.Add(Waiting.OnThread(() =>
            {
                var mine = new Random(seed * 31 + index);
                var held = new List<DeviceRecord>();
                long id = index + 1;
                Action? between = multiPool ? () =>
                {
                    // Each other pool in turn: with the main pool that is more pools than
                    // slots, so the main pool's cache on this thread is evicted again and again.
                    FinishRecordPool<DeviceRecord> other = otherPools[mine.Next(otherPools.Length)];
                    if (other.TryRent(out DeviceRecord? r))
                    {
                        other.Return(r);
                    }
                }
                : null;
                while (true)
                {
                    Assert.True(go[index].Wait(Waiting.Patience, TestContext.Current.CancellationToken), $"seed {seed}: thread {index} never resumed");
                    if (Volatile.Read(ref stopping))
                    {
                        Churn(pool, holdings, id, mine, held, 0, between);
                        return;
                    }

                    Churn(pool, holdings, id, mine, held, Volatile.Read(ref keep[index]), between);
                    Volatile.Write(ref kept[index], held.Count);
                    parked.Release(); // then block, holding `held`, until the next round
                }
            }));
        }

        int rounds = 0;
        int stolenRents = 0;
        try
        {
            for (; rounds < MaxRounds && DateTime.UtcNow < stop && holdings.Errors.IsEmpty; rounds++)
            {
                // Chaos: the parked threads churn, and so do threads that end (handing the records
                // they still hold to this thread, which returns them: a thread that never rented).
                for (int t = 0; t < threadCount; t++)
                {
                    keep[t] = random.Next(0, 3);
                    go[t].Release();
                }

                var handed = new ConcurrentQueue<(DeviceRecord Record, long Id)>();
                Task[] enders = [.. Enumerable.Range(0, EndersPerRound).Select(e => Waiting.OnThread(() =>
                {
                    long id = 1000 + rounds * 10 + e;
                    var mine = new Random(seed * 97 + rounds * 10 + e);
                    var held = new List<DeviceRecord>();
                    Churn(pool, holdings, id, mine, held, mine.Next(0, 2));
                    foreach (DeviceRecord r in held)
                    {
                        handed.Enqueue((r, id));
                    }
                }))];
                Assert.True(Waiting.AllComplete(enders), $"seed {seed}: round {rounds}: enders timed out");
                for (int t = 0; t < threadCount; t++)
                {
                    var deadline = DateTime.UtcNow + Waiting.Patience;
                    while (!parked.Wait(50, TestContext.Current.CancellationToken))
                    {
                        if (threads.Find(thread => thread.IsFaulted) is { } failed)
                        {
                            Assert.Fail($"seed {seed}: round {rounds}: a parked thread failed: {failed.Exception!.InnerException}");
                        }

                        Assert.True(DateTime.UtcNow < deadline, $"seed {seed}: round {rounds}: a thread never parked");
                    }
                }

                while (handed.TryDequeue(out (DeviceRecord Record, long Id) h))
                {
                    holdings.Give(h.Record, h.Id);
                    pool.Return(h.Record);
                }

                // Known state: every thread is parked or ended, and the parked ones hold `out`
                // records. A fresh thread that never returned anything must rent the rest, one
                // after another, and then fail.
                int outNow = kept.Sum();
                Assert.Equal(outNow, pool.Rented);
                int round = rounds;
                int rented = Waiting.Completes(Waiting.OnThread(() =>
                {
                    long id = 100_000 + round;
                    var held = new List<DeviceRecord>();
                    for (int i = 0; i < Capacity - outNow; i++)
                    {
                        if (!pool.TryRent(out DeviceRecord? r))
                        {
                            holdings.Errors.Enqueue($"seed {seed}: round {round}: rent {i} failed with {outNow + i} of {Capacity} records out");
                            break;
                        }

                        holdings.Take(r, id);
                        held.Add(r);
                    }

                    if (held.Count == Capacity - outNow && pool.TryRent(out DeviceRecord? extra))
                    {
                        holdings.Errors.Enqueue($"seed {seed}: round {round}: a rent beyond the capacity succeeded");
                        held.Add(extra); // returned below; the record count already reports the error
                        holdings.Take(extra, id);
                    }

                    int count = held.Count;
                    foreach (DeviceRecord r in held)
                    {
                        holdings.Give(r, id);
                        pool.Return(r); // into this thread's cache, which ends with the thread
                    }

                    return count;
                }), "the fresh renter");
                stolenRents += rented;
            }
        }
        finally
        {
            Volatile.Write(ref stopping, true);
            foreach (SemaphoreSlim s in go)
            {
                s.Release();
            }

            Assert.True(Waiting.AllComplete([.. threads]), $"seed {seed}: the parked threads did not finish");
            foreach (SemaphoreSlim s in go)
            {
                s.Dispose();
            }
        }

        output.WriteLine($"seed {seed}: {rounds} rounds, {stolenRents} rents by fresh threads");
        Assert.Empty(holdings.Errors);
        Assert.Equal(0, pool.Rented);
        Assert.All(otherPools, p => Assert.Equal(0, p.Rented));
        Assert.True(rounds > 5, $"seed {seed}: only {rounds} rounds ran");
    }
}
