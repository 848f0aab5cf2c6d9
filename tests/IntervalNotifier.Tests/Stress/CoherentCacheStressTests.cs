using IntervalNotifier.Caching;

namespace IntervalNotifier.Tests.Stress;

/// <summary>
/// docs/contract.md §10 under real threads, with an oracle: a guest memory of pages with versions,
/// writers that bump the versions of a range inside its bracket, and readers that look up
/// overlapping keys through one <see cref="CoherentCache{TValue}"/>. A value carries the page
/// versions it was produced from; a lookup must never return a page older than the last
/// invalidation of it that completed before the lookup began. Bounded in time, seeded, the seed
/// printed on failure; and the oracle is shown to catch a planted bug (publish without the retry check).
/// </summary>
[Trait("Category", "Stress")]
public sealed class CoherentCacheStressTests(ITestOutputHelper output)
{
    private const int Pages = 64;
    private const ulong PageSize = 0x100;

    private sealed class Oracle
    {
        public readonly long[] Primary = new long[Pages];   // the page versions (the "guest memory")
        public readonly long[] Completed = new long[Pages]; // per page: the version its last completed invalidation wrote

        public long[] Read(ulong start, ulong length)
        {
            int first = (int)(start / PageSize);
            int last = (int)((start + length - 1) / PageSize);
            var versions = new long[last - first + 1];
            for (int p = first; p <= last; p++)
            {
                versions[p - first] = Volatile.Read(ref Primary[p]);
                Thread.Yield(); // a slow decode: widen the window an invalidation can fall into
            }

            return versions;
        }
    }

    private static (int Lookups, int Stale, int Writes) Run(int seed, bool plantBug, TimeSpan duration)
    {
        using var space = new AddressSpace();
        using var cache = new CoherentCache<long[]>(space, new CoherentCacheOptions { Granularity = 4 * PageSize, SizeLimit = 48 })
        {
            PlantedBugSkipsRetryCheck = plantBug,
        };
        var oracle = new Oracle();
        DateTime stop = DateTime.UtcNow + duration;
        int lookups = 0, stale = 0, writes = 0;

        Task Writer(int id) => Waiting.OnThread(() =>
        {
            var random = new Random(HashCode.Combine(seed, "writer", id));
            while (DateTime.UtcNow < stop)
            {
                int first = random.Next(Pages);
                int count = random.Next(1, 4);
                int last = Math.Min(Pages - 1, first + count - 1);
                var wrote = new long[last - first + 1];
                using (space.BeginInvalidation(new InvalidationRange((ulong)first * PageSize, (ulong)(last + 1) * PageSize)))
                {
                    for (int p = first; p <= last; p++)
                    {
                        wrote[p - first] = Interlocked.Increment(ref oracle.Primary[p]);
                    }
                }

                for (int p = first; p <= last; p++)
                {
                    InterlockedMax(ref oracle.Completed[p], wrote[p - first]);
                }

                Interlocked.Increment(ref writes);
                Thread.Sleep(random.Next(2) == 0 ? 0 : 1);
            }
        });

        Task Reader(int id) => Waiting.OnThread(() =>
        {
            var random = new Random(HashCode.Combine(seed, "reader", id));
            while (DateTime.UtcNow < stop)
            {
                // Keys of one to three pages at a few fixed places, so that readers share keys.
                int first = random.Next(Pages / 2) * 2;
                int pages = Math.Min(Pages - first, 1 + random.Next(3));
                ulong start = (ulong)first * PageSize;
                ulong length = (ulong)pages * PageSize;
                long[] floor = [.. Enumerable.Range(first, pages).Select(p => Volatile.Read(ref oracle.Completed[p]))];
                long[] value = random.Next(4) == 0
                    ? cache.GetOrAddAsync(start, length, (s, l, _) => ValueTask.FromResult(oracle.Read(s, l)), TestContext.Current.CancellationToken).AsTask().GetAwaiter().GetResult()
                    : cache.GetOrAdd(start, length, oracle.Read, TestContext.Current.CancellationToken);
                Interlocked.Increment(ref lookups);
                for (int i = 0; i < pages; i++)
                {
                    if (value[i] < floor[i])
                    {
                        Interlocked.Increment(ref stale);
                        break;
                    }
                }
            }
        });

        Task[] workers = [Writer(0), Writer(1), Reader(0), Reader(1), Reader(2)];
        Assert.True(Waiting.AllComplete(workers), $"timed out (seed {seed})");
        Assert.Equal(0, space.ActiveInvalidations);
        return (lookups, stale, writes);
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long seen = Volatile.Read(ref target);
        while (seen < value && Interlocked.CompareExchange(ref target, value, seen) is var previous && previous != seen)
        {
            seen = previous;
        }
    }

    [Theory]
    [InlineData(2001)]
    [InlineData(2002)]
    public void WritersAndReaders_NoLookupEverReturnsAStalePage(int seed)
    {
        (int lookups, int stale, int writes) = Run(seed, plantBug: false, Waiting.Stress(TimeSpan.FromSeconds(1.5)));
        output.WriteLine($"seed {seed}: {lookups} lookups, {writes} writes, {stale} stale");
        Assert.True(stale == 0, $"{stale} stale lookups of {lookups} (seed {seed})");
        double share = Math.Min(1.0, Waiting.StressScale); // a shortened run (mutation testing) does proportionally less
        Assert.True(lookups > 100 * share && writes > 50 * share, $"too little work: {lookups} lookups, {writes} writes (seed {seed})");
    }

    [Fact]
    public void TheOracle_CatchesAPublishWithoutTheRetryCheck()
    {
        int stale = 0;
        for (int attempt = 0; attempt < 5 && stale == 0; attempt++)
        {
            (int lookups, stale, int writes) = Run(3001 + attempt, plantBug: true, TimeSpan.FromSeconds(1));
            output.WriteLine($"planted bug, seed {3001 + attempt}: {lookups} lookups, {writes} writes, {stale} stale");
        }

        Assert.True(stale > 0, "the oracle did not catch the planted bug");
    }
}
