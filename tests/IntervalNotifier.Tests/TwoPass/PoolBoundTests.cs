using System.Runtime.CompilerServices;

namespace IntervalNotifier.Tests.TwoPass;

/// <summary>
/// docs/contract.md §6, the pool's bound is its capacity: records parked in the caches of idle or
/// blocked threads are reachable from any other thread's rent, and a pool nobody references is
/// collected, whichever threads used it.
/// </summary>
public sealed class PoolBoundTests
{
    [Fact]
    public void TryRent_WhileSixteenIdleThreadsCacheEveryFreeRecord_SucceedsUpToCapacity()
    {
        const int Threads = 16;
        var pool = new FinishRecordPool<DeviceRecord>(Threads);
        using var release = new ManualResetEventSlim();
        var parked = new List<Task>();
        try
        {
            for (int t = 0; t < Threads; t++)
            {
                using var used = new ManualResetEventSlim();
                bool rented = false;
                parked.Add(Waiting.OnThread(() =>
                {
                    rented = pool.TryRent(out DeviceRecord? r);
                    if (r is not null)
                    {
                        pool.Return(r); // into this thread's cache, where it stays while the thread waits
                    }

                    used.Set();
                    Assert.True(Waiting.For(release));
                }));
                Assert.True(Waiting.For(used));
                Assert.True(rented, $"idle thread {t}'s rent failed with {pool.Rented} of {Threads} records out");
            }

            var here = new List<DeviceRecord>();
            for (int i = 0; i < Threads; i++)
            {
                Assert.True(pool.TryRent(out DeviceRecord? r), $"rent {i} failed with {pool.Rented} of {Threads} records out");
                here.Add(r);
            }

            Assert.Equal(Threads, here.Distinct().Count());
            Assert.Equal(Threads, pool.Rented);
            Assert.False(pool.TryRent(out _)); // and the bound holds
            here.ForEach(pool.Return);
            Assert.Equal(0, pool.Rented);
        }
        finally
        {
            release.Set();
            Assert.True(Waiting.AllComplete([.. parked]));
        }
    }

    [Fact]
    public void APoolNobodyReferences_IsCollected_WhileThreadsThatUsedItStillLive()
    {
        using var release = new ManualResetEventSlim();
        var threads = new List<Task>();
        try
        {
            WeakReference pool = UsePoolOnThreads(3, release, threads);
            for (int i = 0; i < 3 && pool.IsAlive; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
            }

            Assert.False(pool.IsAlive, "the pool is still reachable from the threads that used it");
        }
        finally
        {
            release.Set();
            Assert.True(Waiting.AllComplete([.. threads]));
        }
    }

    // The threads that outlived the pool then use more pools than they have cache slots: the
    // collected pool's cache falls out of their slots, and nothing is spilled anywhere.
    [Fact]
    [Trait("Found", "mutation testing")]
    public void ACacheOfACollectedPool_FallsOutOfTheSlots_OfAThreadThatUsesMorePools()
    {
        FinishRecordPool<DeviceRecord>[] later = [.. Enumerable.Range(0, RecordCaches.SlotsPerThread).Select(_ => new FinishRecordPool<DeviceRecord>(4))];
        foreach (FinishRecordPool<DeviceRecord> p in later)
        {
            Assert.True(p.TryRent(out DeviceRecord? r)); // this thread is their home: the others' caches take slots
            p.Return(r);
        }

        using var release = new ManualResetEventSlim();
        var threads = new List<Task>();
        WeakReference pool = UsePoolOnThreads(3, release, threads, () =>
        {
            foreach (FinishRecordPool<DeviceRecord> p in later)
            {
                Assert.True(p.TryRent(out DeviceRecord? r));
                p.Return(r);
            }
        });
        for (int i = 0; i < 3 && pool.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }

        Assert.False(pool.IsAlive, "the pool is still reachable from the threads that used it");
        release.Set();
        Assert.True(Waiting.AllComplete([.. threads])); // a thread that tried to spill into the collected pool faulted
        Assert.All(later, p => Assert.Equal(0, p.Rented));
    }

    // In a method of its own, not inlined, so that no local of the test keeps the pool alive.
    // Each thread rents and returns (its cache keeps the record) and then blocks, holding nothing
    // of the pool itself: the box that handed it the pool is emptied.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference UsePoolOnThreads(int count, ManualResetEventSlim release, List<Task> threads, Action? afterRelease = null)
    {
        var pool = new FinishRecordPool<DeviceRecord>(8);
        for (int t = 0; t < count; t++)
        {
            var box = new StrongBox<FinishRecordPool<DeviceRecord>?>(pool);
            using var used = new ManualResetEventSlim();
            threads.Add(Waiting.OnThread(() =>
            {
                RentAndReturn(box);
                used.Set();
                Assert.True(Waiting.For(release));
                afterRelease?.Invoke();
            }));
            Assert.True(Waiting.For(used));
        }

        return new WeakReference(pool);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RentAndReturn(StrongBox<FinishRecordPool<DeviceRecord>?> box)
    {
        FinishRecordPool<DeviceRecord> pool = box.Value!;
        box.Value = null;
        Assert.True(pool.TryRent(out DeviceRecord? a));
        Assert.True(pool.TryRent(out DeviceRecord? b));
        pool.Return(b);
        pool.Return(a);
    }
}
