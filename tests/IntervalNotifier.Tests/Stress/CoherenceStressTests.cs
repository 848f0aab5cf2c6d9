namespace IntervalNotifier.Tests.Stress;

/// <summary>
/// The mirror's coherence (docs/contract.md §3): a device mirror of a primary page table, kept by
/// two fault threads on the §3 fault path, while two invalidator threads change the primary
/// inside brackets. Bounded in time, seeded; the seed is printed on failure.
/// </summary>
[Trait("Category", "Stress")]
public sealed class CoherenceStressTests(ITestOutputHelper output)
{
    private const int Pages = 64;

    /// <summary>A device's page table mirroring the primary through several overlapping subscriptions.</summary>
    private sealed class Mirror : IIntervalInvalidator
    {
        public readonly object Lock = new();
        public readonly long[] Values = new long[Pages];
        public readonly bool[] Valid = new bool[Pages];

        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
        {
            lock (Lock)
            {
                subscription.SetSequence(currentSequence);
                ulong first = Math.Max(range.Start, subscription.Start);
                ulong last = Math.Min(range.Last, subscription.Last);
                for (ulong p = first; p <= last && p < Pages; p++)
                {
                    Valid[p] = false;
                }
            }

            return true;
        }
    }

    [Theory]
    [InlineData(20260001)]
    [InlineData(20260002)]
    public void FaultsAndInvalidations_NoMirroredPageEverDiffersFromThePrimary(int seed)
    {
        var primary = new long[Pages];
        var mirror = new Mirror();
        using var space = new AddressSpace();

        // Overlapping subscriptions: [0,20), [16,36), [32,52), [48,64).
        IntervalSubscription[] subs = [.. new[] { 0, 16, 32, 48 }.Select(s => space.Subscribe((ulong)s, (ulong)Math.Min(20, Pages - s), mirror))];
        IntervalSubscription SubFor(int page, Random random)
        {
            IntervalSubscription[] covering = [.. subs.Where(s => s.Start <= (ulong)page && (ulong)page <= s.Last)];
            return covering[random.Next(covering.Length)];
        }

        var stop = DateTime.UtcNow + Waiting.Stress(TimeSpan.FromSeconds(2));
        var violations = new List<string>();
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

        long faults = 0, retries = 0, invalidations = 0, checks = 0;

        Task Faulter(int id) => Waiting.OnThread(() =>
        {
            var random = new Random(seed + id);
            while (DateTime.UtcNow < stop)
            {
                int page = random.Next(Pages);
                IntervalSubscription sub = SubFor(page, random);
                while (true)
                {
                    ulong seq = sub.ReadBegin();
                    long value = Volatile.Read(ref primary[page]);
                    if (random.Next(8) == 0)
                    {
                        Thread.Yield(); // a slow fault
                    }

                    lock (mirror.Lock)
                    {
                        if (sub.ReadRetry(seq))
                        {
                            Interlocked.Increment(ref retries);
                            continue;
                        }

                        mirror.Values[page] = value;
                        mirror.Valid[page] = true;
                    }

                    Interlocked.Increment(ref faults);
                    break;
                }
            }
        });

        Task Invalidator(int id) => Waiting.OnThread(() =>
        {
            var random = new Random(seed * 3 + id);
            while (DateTime.UtcNow < stop)
            {
                int start = random.Next(Pages);
                int end = Math.Min(Pages, start + 1 + random.Next(12));
                using (space.BeginInvalidation(new InvalidationRange((ulong)start, (ulong)end)))
                {
                    // After begin returns, nothing in the range is mirrored (or can be published).
                    lock (mirror.Lock)
                    {
                        for (int p = start; p < end; p++)
                        {
                            if (mirror.Valid[p])
                            {
                                Violate($"page {p} still mirrored after begin returned");
                            }
                        }
                    }

                    for (int p = start; p < end; p++)
                    {
                        Interlocked.Increment(ref primary[p]);
                    }

                    if (random.Next(4) == 0)
                    {
                        Thread.Yield();
                    }
                }

                Interlocked.Increment(ref invalidations);
                if (random.Next(8) == 0)
                {
                    Thread.Sleep(1); // leave idle windows: while S is odd, faults on hit pages wait
                }
            }
        });

        Task checker = Waiting.OnThread(() =>
        {
            while (DateTime.UtcNow < stop)
            {
                lock (mirror.Lock)
                {
                    for (int p = 0; p < Pages; p++)
                    {
                        if (mirror.Valid[p] && mirror.Values[p] != Volatile.Read(ref primary[p]))
                        {
                            Violate($"page {p}: mirror {mirror.Values[p]} != primary {Volatile.Read(ref primary[p])}");
                        }
                    }
                }

                Interlocked.Increment(ref checks);
                Thread.Yield();
            }
        });

        Task[] all = [Faulter(1), Faulter(2), Invalidator(1), Invalidator(2), checker];
        try
        {
            Assert.True(Waiting.AllComplete(all), "timed out");
            Assert.Empty(violations);
            Assert.True(faults > 100 && invalidations > 100, $"too little work: {faults} faults, {invalidations} invalidations");
            Assert.Equal(0, space.ActiveInvalidations);
            output.WriteLine($"{faults} faults ({retries} retries), {invalidations} invalidations, {checks} checks");
        }
        catch
        {
            output.WriteLine($"seed = {seed}; violations: {string.Join("; ", violations)}");
            throw;
        }
    }
}
