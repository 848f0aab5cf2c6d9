using IntervalNotifier.Caching;
using Microsoft.Coyote.Specifications;

namespace IntervalNotifier.SystematicTests;

/// <summary>
/// docs/contract.md §10 under Coyote: the coherent cache's productions racing overlapping
/// begins, regions dropped (deferred unsubscribe) and subscribed again, concurrent lookups of one
/// key, and evictions racing invalidations.
/// </summary>
public sealed class CacheScenarios(ITestOutputHelper output)
{
    // Productions racing writers that change the primary inside their brackets; regions are
    // dropped as soon as they fall idle (from inside the callbacks that evict their last entry:
    // UnsubscribeDeferred) and subscribed again by the next miss, while brackets may be open.
    // When a writer's begin returns, no entry of its range is cached; at the end the cache holds
    // nothing older than the primary; a lookup that began after a writer's bracket ended never
    // returns a value older than that writer's.
    private static Func<Task> Coherence(bool plantBug) => async () =>
    {
        using var space = new AddressSpace();
        using var cache = new CoherentCache<long>(space, new CoherentCacheOptions { Granularity = 8 })
        {
            IdleRegionLimit = 0,
            PlantedBugSkipsRetryCheck = plantBug,
        };
        long primary = 0;
        long ended = 0; // the newest value whose bracket has ended

        // Each writer raises the primary inside its bracket (so the primary only grows), and
        // once its bracket has ended records what it wrote: a later lookup owes at least that.
        Task Writer(ulong start, ulong end) => Task.Run(() =>
        {
            long wrote;
            using (space.BeginInvalidation(new InvalidationRange(start, end)))
            {
                Specification.Assert(!cache.TryGetValue(0, 12, out _), "an entry survived the begin of an overlapping invalidation");
                wrote = Interlocked.Increment(ref primary);
            }

            InterlockedMax(ref ended, wrote);
        });

        Task Reader() => Task.Run(() =>
        {
            long floor = Volatile.Read(ref ended);
            long value = cache.GetOrAdd(0, 12, (_, _) => Volatile.Read(ref primary));
            Specification.Assert(value >= floor, $"a lookup begun after the bracket that wrote {floor} ended returned {value}");
        });

        Task r1 = Reader();
        Task w1 = Writer(0, 4);
        Task r2 = Reader();
        Task w2 = Writer(8, 16);
        await r1;
        await w1;
        await r2;
        await w2;

        if (cache.TryGetValue(0, 12, out long cached))
        {
            Specification.Assert(cached == Volatile.Read(ref primary), $"the cache keeps {cached}, the primary is {Volatile.Read(ref primary)}");
        }

        Specification.Assert(space.ActiveInvalidations == 0, "an invalidation is still active");
    };

    private static void InterlockedMax(ref long target, long value)
    {
        long seen = Volatile.Read(ref target);
        while (seen < value)
        {
            long previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S10_Cache_ProductionsRacingBeginsAndDroppedRegions_NeverCacheOrReturnStale(uint seed) =>
        Systematic.AssertNoBug(Coherence(plantBug: false), seed, output);

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S10_Cache_FindsAPublishWithoutTheRetryCheck(uint seed) =>
        Systematic.AssertFindsBug(Coherence(plantBug: true), seed, output);

    // Concurrent lookups of one key: one production at a time; the first production throws.
    // Every lookup gets a produced value or that production's exception; the factory runs once
    // per production (the one that threw and, at most, one more).
    private static async Task OneKey()
    {
        using var space = new AddressSpace();
        using var cache = new CoherentCache<string>(space, new CoherentCacheOptions { Granularity = 8 });
        int running = 0;
        int calls = 0;
        string Factory(ulong start, ulong length)
        {
            Specification.Assert(Interlocked.Increment(ref running) == 1, "two productions of one key at once");
            int call = Interlocked.Increment(ref calls);
            Interlocked.Decrement(ref running);
            return call == 1 ? throw new FormatException("first production fails") : $"value {call}";
        }

        async Task<string> Lookup(bool awaitable)
        {
            try
            {
                return awaitable
                    ? await cache.GetOrAddAsync(0, 4, (s, l, _) => ValueTask.FromResult(Factory(s, l)))
                    : cache.GetOrAdd(0, 4, Factory);
            }
            catch (FormatException)
            {
                return "faulted";
            }
        }

        Task<string> a = Task.Run(() => Lookup(false));
        Task<string> b = Task.Run(() => Lookup(true));
        Task<string> c = Task.Run(() => Lookup(false));
        string[] results = [await a, await b, await c];

        Specification.Assert(Volatile.Read(ref calls) <= 2, $"{calls} productions for one key");
        string[] values = [.. results.Where(r => r != "faulted").Distinct()];
        Specification.Assert(values.Length <= 1, $"lookups got different values: {string.Join(", ", values)}");
        Specification.Assert(results.Contains("faulted"), "the failed production reached nobody");
    }

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S10_Cache_ConcurrentLookupsOfOneKey_ProduceOnce_EveryWaiterGetsItsValueOrException(uint seed) =>
        Systematic.AssertNoBug(OneKey, seed, output);

    // Evictions for the size limit racing an invalidation and a Remove: every entry is reported
    // evicted exactly once (here or when the cache is disposed), never twice.
    private static async Task Evictions()
    {
        using var space = new AddressSpace();
        var cache = new CoherentCache<object>(space, new CoherentCacheOptions { Granularity = 8, SizeLimit = 1 });
        var reported = new Dictionary<object, int>();
        cache.Evicted += (_, e) =>
        {
            lock (reported)
            {
                reported[e.Value] = reported.GetValueOrDefault(e.Value) + 1;
            }
        };
        static object Make(ulong start, ulong length) => new();

        Task<object> l1 = Task.Run(() => cache.GetOrAdd(0, 4, Make));
        Task<object> l2 = Task.Run(() => cache.GetOrAdd(8, 4, Make));
        Task inv = Task.Run(() => space.BeginInvalidation(new InvalidationRange(0, 16)).Dispose());
        Task rm = Task.Run(() => cache.Remove(8, 4));
        object[] published = [await l1, await l2];
        await inv;
        await rm;
        int cached = cache.Count;
        cache.Dispose();

        // Every published value left the cache (at the latest when it was disposed), reported once.
        foreach (object value in published)
        {
            int times = reported.GetValueOrDefault(value);
            Specification.Assert(times == 1, $"entry {Array.IndexOf(published, value)} was reported evicted {times} times ({reported.Count} reported, {cached} cached before the cache was disposed)");
        }

        Specification.Assert(cached <= 1, $"{cached} entries cached with a size limit of 1");
        Specification.Assert(reported.Values.All(n => n == 1), "an entry was reported evicted twice");
    }

    [Theory]
    [MemberData(nameof(Systematic.Seeds), MemberType = typeof(Systematic))]
    public void S10_Cache_EvictionsRacingInvalidationsAndRemove_ReportEachEntryOnce(uint seed) =>
        Systematic.AssertNoBug(Evictions, seed, output);
}
