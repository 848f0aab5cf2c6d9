using System.Diagnostics;

namespace IntervalNotifier.Tests.Stress;

/// <summary>
/// A seeded, bounded soak: subscribes and unsubscribes, blockable and non-blockable
/// invalidations of random ranges, two-pass devices with random pool faults, callbacks that
/// throw at a small rate, and mirrors faulting concurrently. At the end: no record lost, no
/// active invalidation, S even, no thread hung, no stale mirror page.
/// </summary>
/// <remarks>
/// Runs 10 s by default; set INTERVALNOTIFIER_SOAK_SECONDS for longer, and
/// INTERVALNOTIFIER_SOAK_SEED to replay a seed: every worker's operations come from a plan made
/// from the seed alone, so the same seed replays the same operation sequence (the interleaving
/// is up to the machine).
/// </remarks>
[Trait("Category", "Stress")]
public sealed class SoakTests(ITestOutputHelper output)
{
    private const int Pages = 256;
    private const int DeviceCount = 6;

    private static TimeSpan Duration =>
        int.TryParse(Environment.GetEnvironmentVariable("INTERVALNOTIFIER_SOAK_SECONDS"), out int s) && s > 0
            ? TimeSpan.FromSeconds(s)
            : Waiting.Stress(TimeSpan.FromSeconds(10));

    private static int DefaultSeed =>
        int.TryParse(Environment.GetEnvironmentVariable("INTERVALNOTIFIER_SOAK_SEED"), out int s) ? s : 20261125;

    internal enum OpKind
    {
        Invalidate,
        TryInvalidate,
        Fault,
        Subscribe,
        Unsubscribe,
        Check,
    }

    /// <summary>One planned operation: what, where, which device (subscribe: to subscribe; non-blockable invalidation: that refuses), which device throws, and a pick among live subscriptions.</summary>
    internal readonly record struct Op(OpKind Kind, int Start, int Length, int Device, int Throwing, int Pick);

    private const int Workers = 5;

    /// <summary>The first <paramref name="length"/> operations of each worker.</summary>
    internal static Op[][] Plan(int seed, int length) =>
        [.. Enumerable.Range(0, Workers).Select(w => Operations(seed, w).Take(length).ToArray())];

    /// <summary>
    /// The endless operations of one worker, from the seed alone: workers 0 and 1 invalidate,
    /// 2 and 3 fault, 4 subscribes, unsubscribes and checks.
    /// </summary>
    internal static IEnumerable<Op> Operations(int seed, int worker)
    {
        var r = new Random(HashCode.Combine(seed, worker));
        while (true)
        {
            yield return worker switch
            {
                0 or 1 => Invalidation(r),
                2 or 3 => new Op(OpKind.Fault, 0, 0, 0, -1, r.Next(1 << 20)),
                _ => r.Next(10) switch
                {
                    < 4 => new Op(OpKind.Subscribe, r.Next(Pages), 1 + r.Next(32), r.Next(DeviceCount), -1, 0),
                    < 8 => new Op(OpKind.Unsubscribe, 0, 0, 0, -1, r.Next(1 << 20)),
                    _ => new Op(OpKind.Check, 0, 0, 0, -1, 0),
                },
            };
        }

        static Op Invalidation(Random r)
        {
            int start = r.Next(Pages);
            int length = Math.Min(1 + r.Next(r.Next(4) == 0 ? 64 : 8), Pages - start);
            if (r.Next(5) == 0)
            {
                // Non-blockable; in a third of them one device would have to wait and refuses.
                return new Op(OpKind.TryInvalidate, start, length, r.Next(3) == 0 ? r.Next(DeviceCount) : -1, -1, 0);
            }

            int throwing = r.Next(50) == 0 ? r.Next(DeviceCount) : -1; // ~2 % of invalidations
            return new Op(OpKind.Invalidate, start, length, -1, throwing, 0);
        }
    }

    [Fact]
    public void Plan_SameSeed_ReplaysTheSameOperations_OtherSeedDiffers()
    {
        Assert.Equal(Plan(7, 500), Plan(7, 500));
        Assert.NotEqual(Plan(7, 500)[0], Plan(8, 500)[0]);
    }

    /// <summary>A device's mirror of the primary: a copy per page, behind its own lock.</summary>
    private class Device(int id) : IIntervalInvalidator
    {
        [ThreadStatic]
        private static int t_throwing;

        public int Id { get; } = id;

        public object Lock { get; } = new();

        public long[] Values { get; } = new long[Pages];

        public bool[] Valid { get; } = new bool[Pages];

        [ThreadStatic]
        private static int t_refusing;

        public static void ThrowingDuringThisOp(int device) => t_throwing = device + 1; // 0: none

        public static void RefusingDuringThisOp(int device) => t_refusing = device + 1;

        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
        {
            if (Refuses(range))
            {
                return false;
            }

            TearDown(subscription, range, currentSequence);
            MaybeThrow();
            return true;
        }

        /// <summary>A non-blockable invalidation that this device would have to wait for: it refuses, and tears nothing down.</summary>
        protected bool Refuses(in InvalidationRange range) => !range.Blockable && t_refusing == Id + 1;

        protected void TearDown(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
        {
            lock (Lock)
            {
                subscription.SetSequence(currentSequence);
                ulong first = Math.Max(range.Start, subscription.Start);
                ulong last = Math.Min(range.Last, subscription.Last);
                for (ulong p = first; p <= last; p++)
                {
                    Valid[p] = false;
                }
            }
        }

        protected void MaybeThrow()
        {
            if (t_throwing == Id + 1)
            {
                throw new InvalidOperationException($"device {Id} fails on purpose");
            }
        }
    }

    /// <summary>A two-pass device: the start pass tears down and takes a pooled record (or falls back); the finish pass may throw.</summary>
    private sealed class TwoPassDevice(int id, FinishRecordPool<FinishRecord> pool) : Device(id), ITwoPassIntervalInvalidator
    {
        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            finish = null;
            if (Refuses(range))
            {
                return false;
            }

            TearDown(subscription, range, currentSequence);
            finish = pool.TryRent(out FinishRecord? record) ? record : null;
            return true;
        }

        public void InvalidateFinish(FinishRecord finish) => MaybeThrow();
    }

    /// <summary>A live subscription as the workers see it; Retired (under the device's lock) stops publishing through it.</summary>
    private sealed class Entry(Device device, IntervalSubscription subscription)
    {
        public Device Device { get; } = device;

        public IntervalSubscription Subscription { get; } = subscription;

        public bool Retired { get; set; }
    }

    [Fact]
    public void Soak_RandomWorkload_EndsConsistent_WithNoStalePageNoLostRecordNoHang() => RunSoak(DefaultSeed, Duration);

    private void RunSoak(int seed, TimeSpan duration)
    {
        output.WriteLine($"soak seed = {seed} (replay with INTERVALNOTIFIER_SOAK_SEED={seed}), duration {duration.TotalSeconds} s");
        var primary = new long[Pages];
        var space = new AddressSpace();
        var pools = new List<FinishRecordPool<FinishRecord>>();
        var devices = new Device[DeviceCount];
        for (int i = 0; i < DeviceCount; i++)
        {
            if (i % 2 == 0)
            {
                devices[i] = new Device(i);
            }
            else
            {
                var pool = new FinishRecordPool<FinishRecord>(8, AllocationFaults.Random(0.1, seed + i));
                pools.Add(pool);
                devices[i] = new TwoPassDevice(i, pool);
            }
        }

        var registry = new List<Entry>();
        var violations = new List<string>();
        var counts = new long[Enum.GetValues<OpKind>().Length + 2]; // + failed begins, thrown
        var stopwatch = Stopwatch.StartNew();
        bool TimeLeft() => stopwatch.Elapsed < duration;

        void Violate(string what)
        {
            lock (violations)
            {
                if (violations.Count < 20)
                {
                    violations.Add(what);
                }
            }
        }

        void Check()
        {
            foreach (Device d in devices)
            {
                lock (d.Lock)
                {
                    for (int p = 0; p < Pages; p++)
                    {
                        if (d.Valid[p] && d.Values[p] != Volatile.Read(ref primary[p]))
                        {
                            Violate($"device {d.Id} page {p}: mirror {d.Values[p]} != primary {Volatile.Read(ref primary[p])}");
                        }
                    }
                }
            }
        }

        Entry? PickEntry(int pick)
        {
            lock (registry)
            {
                return registry.Count == 0 ? null : registry[pick % registry.Count];
            }
        }

        void Execute(Op op)
        {
            Interlocked.Increment(ref counts[(int)op.Kind]);
            switch (op.Kind)
            {
                case OpKind.Invalidate:
                case OpKind.TryInvalidate:
                {
                    var range = new InvalidationRange((ulong)op.Start, (ulong)(op.Start + op.Length));
                    Device.ThrowingDuringThisOp(op.Throwing);
                    Device.RefusingDuringThisOp(op.Kind == OpKind.TryInvalidate ? op.Device : -1);
                    try
                    {
                        InvalidationScope scope;
                        if (op.Kind == OpKind.Invalidate)
                        {
                            scope = space.BeginInvalidation(range);
                        }
                        else if (!space.TryBeginInvalidation(range, out scope))
                        {
                            Interlocked.Increment(ref counts[^2]);
                            return; // a failed begin: the range must not change
                        }

                        using (scope)
                        {
                            for (int p = op.Start; p < op.Start + op.Length; p++)
                            {
                                Interlocked.Increment(ref primary[p]);
                            }
                        }
                    }
                    catch (Exception e) when (op.Throwing >= 0 && e is InvalidOperationException or AggregateException)
                    {
                        Interlocked.Increment(ref counts[^1]); // the core ended the bracket; the range is left alone
                    }
                    finally
                    {
                        Device.ThrowingDuringThisOp(-1);
                        Device.RefusingDuringThisOp(-1);
                    }

                    break;
                }

                case OpKind.Fault:
                {
                    if (PickEntry(op.Pick) is not { } entry)
                    {
                        return;
                    }

                    IntervalSubscription sub = entry.Subscription;
                    int page = (int)sub.Start + (op.Pick % (int)(sub.Last - sub.Start + 1));
                    while (true)
                    {
                        ulong seq = sub.ReadBegin();
                        long value = Volatile.Read(ref primary[page]);
                        lock (entry.Device.Lock)
                        {
                            if (entry.Retired)
                            {
                                return;
                            }

                            if (sub.ReadRetry(seq))
                            {
                                continue;
                            }

                            entry.Device.Values[page] = value;
                            entry.Device.Valid[page] = true;
                        }

                        return;
                    }
                }

                case OpKind.Subscribe:
                {
                    Device device = devices[op.Device];
                    var entry = new Entry(device, space.Subscribe((ulong)op.Start, (ulong)Math.Min(op.Length, Pages - op.Start), device));
                    lock (registry)
                    {
                        registry.Add(entry);
                    }

                    break;
                }

                case OpKind.Unsubscribe:
                {
                    Entry? entry;
                    lock (registry)
                    {
                        entry = registry.Count == 0 ? null : registry[op.Pick % registry.Count];
                        if (entry is not null)
                        {
                            registry.Remove(entry);
                        }
                    }

                    if (entry is null)
                    {
                        return;
                    }

                    // A real mirror stops publishing through the subscription and drops what it
                    // mirrored through it before unsubscribing: afterwards nothing invalidates it.
                    lock (entry.Device.Lock)
                    {
                        entry.Retired = true;
                        for (ulong p = entry.Subscription.Start; p <= entry.Subscription.Last; p++)
                        {
                            entry.Device.Valid[p] = false;
                        }
                    }

                    entry.Subscription.Unsubscribe();
                    break;
                }

                case OpKind.Check:
                    Check();
                    break;
            }
        }

        Task[] workers = [.. Enumerable.Range(0, Workers).Select(w => Waiting.OnThread(() =>
        {
            foreach (Op op in Operations(seed, w))
            {
                if (!TimeLeft())
                {
                    return;
                }

                Execute(op);
            }
        }))];

        try
        {
            bool finished = Task.WaitAll(workers, duration + Waiting.Patience);
            Assert.True(finished, "a worker hung");
            Check();
            Assert.Empty(violations);
            Assert.Equal(0, space.ActiveInvalidations);
            Assert.Equal(0UL, space.Sequence & 1);
            Assert.All(pools, p => Assert.Equal(0, p.Rented));
            lock (registry)
            {
                Assert.Equal(registry.Count, space.SubscriptionCount);
            }

            output.WriteLine(string.Join(", ", Enum.GetValues<OpKind>().Select(k => $"{counts[(int)k]} {k}")) +
                $", {counts[^2]} failed non-blockable begins, {counts[^1]} invalidations with a throwing callback, " +
                $"{pools.Sum(p => p.Failures)} pool failures");
            Assert.True(counts[(int)OpKind.Invalidate] > 100 && counts[(int)OpKind.Fault] > 100, "too little work was done");
        }
        catch
        {
            output.WriteLine($"FAILED with seed {seed}: {string.Join("; ", violations)}");
            throw;
        }
        finally
        {
            space.Dispose();
        }
    }
}
