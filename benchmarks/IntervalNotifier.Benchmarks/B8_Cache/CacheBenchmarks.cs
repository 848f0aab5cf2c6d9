using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using IntervalNotifier.Caching;

namespace IntervalNotifier.Benchmarks.B8_Cache;

/// <summary>
/// B8 — the coherent cache: lookups of N distinct 128-byte keys spread over a 16 MiB space, in
/// a shuffled order (every key, many per invocation), so that the working set is the table and
/// not a few cached lines. Three caches hold the same keys and values:
/// <c>ConcurrentDictionary&lt;(ulong, ulong), T&gt;</c> (the floor of a keyed lookup, no
/// coherence), <see cref="CoherentCache{TValue}"/> (default options: 64 KiB regions), and
/// <see cref="HandWrittenCache{TValue}"/> (one subscription per entry, a worker that
/// unsubscribes). <b>hit</b>: a lookup of a cached key. <b>miss</b>: Remove, then the lookup
/// that produces and publishes again — the remove is included (for the hand-written cache it
/// unsubscribes the entry's subscription, the miss subscribes a new one); Factory_Only is the
/// factory alone over the same keys. <b>after-write</b>: an invalidation of the key's range
/// (begin + end, which drops the entry), then the lookup that produces it again.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class CacheBenchmarks
{
    private const int HitBatch = 1024;
    private const int MissBatch = 64;
    private CachePrimary _primary = null!;
    private (ulong Start, ulong Length)[] _queries = null!;
    private int _mask;
    private int _next;
    private ConcurrentDictionary<(ulong, ulong), CachedValue> _dictionary = null!;
    private AddressSpace? _space;
    private CoherentCache<CachedValue>? _cache;
    private HandWrittenCache<CachedValue>? _handWritten;

    public static IEnumerable<int> KeyCounts => SuiteConfig.Smoke ? [1_000] : [1_000, 100_000];

    [ParamsSource(nameof(KeyCounts))]
    public int Keys { get; set; }

    private void SetupKeys()
    {
        _primary = new CachePrimary();
        (ulong Start, ulong Length)[] keys = CacheKeys.Distinct(Keys);
        _queries = CacheKeys.Queries(keys, atLeast: 4 * HitBatch);
        _mask = _queries.Length - 1;
        _next = 0;
    }

    [GlobalSetup(Targets = [nameof(Hit_Dictionary), nameof(Miss_Dictionary), nameof(Factory_Only)])]
    public void SetupDictionary()
    {
        SetupKeys();
        _dictionary = new ConcurrentDictionary<(ulong, ulong), CachedValue>();
        foreach ((ulong start, ulong length) in _queries)
        {
            _dictionary.TryAdd((start, length), CachePrimary.Produce(start, length, _primary));
        }
    }

    [GlobalSetup(Targets = [nameof(Hit_CoherentCache), nameof(Hit_CoherentCache_TryGetValue), nameof(Miss_CoherentCache), nameof(AfterWrite_CoherentCache)])]
    public void SetupCoherentCache()
    {
        SetupKeys();
        _space = new AddressSpace();
        _cache = new CoherentCache<CachedValue>(_space);
        foreach ((ulong start, ulong length) in _queries)
        {
            _cache.GetOrAdd(start, length, CachePrimary.Factory, _primary);
        }
    }

    [GlobalSetup(Targets = [nameof(Hit_HandWritten), nameof(Miss_HandWritten), nameof(AfterWrite_HandWritten)])]
    public void SetupHandWritten()
    {
        SetupKeys();
        _space = new AddressSpace();
        _handWritten = new HandWrittenCache<CachedValue>(_space);
        foreach ((ulong start, ulong length) in _queries)
        {
            _handWritten.GetOrAdd(start, length, CachePrimary.Factory, _primary);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cache?.Dispose();
        _handWritten?.Dispose();
        _space?.Dispose();
        (_cache, _handWritten, _space) = (null, null, null);
    }

    [BenchmarkCategory("hit"), Benchmark(Baseline = true, OperationsPerInvoke = HitBatch)]
    public long Hit_Dictionary()
    {
        long sum = 0;
        for (int i = 0; i < HitBatch; i++)
        {
            (ulong start, ulong length) = _queries[_next++ & _mask];
            _dictionary.TryGetValue((start, length), out CachedValue? value);
            sum += value!.Version;
        }

        return sum;
    }

    [BenchmarkCategory("hit"), Benchmark(OperationsPerInvoke = HitBatch)]
    public long Hit_CoherentCache()
    {
        long sum = 0;
        for (int i = 0; i < HitBatch; i++)
        {
            (ulong start, ulong length) = _queries[_next++ & _mask];
            sum += _cache!.GetOrAdd(start, length, CachePrimary.Factory, _primary).Version;
        }

        return sum;
    }

    [BenchmarkCategory("hit"), Benchmark(OperationsPerInvoke = HitBatch)]
    public long Hit_CoherentCache_TryGetValue()
    {
        long sum = 0;
        for (int i = 0; i < HitBatch; i++)
        {
            (ulong start, ulong length) = _queries[_next++ & _mask];
            _cache!.TryGetValue(start, length, out CachedValue? value);
            sum += value!.Version;
        }

        return sum;
    }

    [BenchmarkCategory("hit"), Benchmark(OperationsPerInvoke = HitBatch)]
    public long Hit_HandWritten()
    {
        long sum = 0;
        for (int i = 0; i < HitBatch; i++)
        {
            (ulong start, ulong length) = _queries[_next++ & _mask];
            sum += _handWritten!.GetOrAdd(start, length, CachePrimary.Factory, _primary).Version;
        }

        return sum;
    }

    [BenchmarkCategory("miss"), Benchmark(OperationsPerInvoke = MissBatch)]
    public long Factory_Only()
    {
        long sum = 0;
        for (int i = 0; i < MissBatch; i++)
        {
            (ulong start, ulong length) = _queries[_next++ & _mask];
            sum += CachePrimary.Produce(start, length, _primary).Version;
        }

        return sum;
    }

    [BenchmarkCategory("miss"), Benchmark(Baseline = true, OperationsPerInvoke = MissBatch)]
    public long Miss_Dictionary()
    {
        long sum = 0;
        for (int i = 0; i < MissBatch; i++)
        {
            (ulong start, ulong length) = _queries[_next++ & _mask];
            _dictionary.TryRemove((start, length), out _);
            sum += _dictionary.GetOrAdd((start, length), static (key, primary) => CachePrimary.Produce(key.Item1, key.Item2, primary), _primary).Version;
        }

        return sum;
    }

    [BenchmarkCategory("miss"), Benchmark(OperationsPerInvoke = MissBatch)]
    public long Miss_CoherentCache()
    {
        long sum = 0;
        for (int i = 0; i < MissBatch; i++)
        {
            (ulong start, ulong length) = _queries[_next++ & _mask];
            _cache!.Remove(start, length);
            sum += _cache.GetOrAdd(start, length, CachePrimary.Factory, _primary).Version;
        }

        return sum;
    }

    [BenchmarkCategory("miss"), Benchmark(OperationsPerInvoke = MissBatch)]
    public long Miss_HandWritten()
    {
        long sum = 0;
        for (int i = 0; i < MissBatch; i++)
        {
            (ulong start, ulong length) = _queries[_next++ & _mask];
            _handWritten!.Remove(start, length);
            sum += _handWritten.GetOrAdd(start, length, CachePrimary.Factory, _primary).Version;
        }

        return sum;
    }

    [BenchmarkCategory("after-write"), Benchmark(Baseline = true, OperationsPerInvoke = MissBatch)]
    public long AfterWrite_HandWritten()
    {
        long sum = 0;
        for (int i = 0; i < MissBatch; i++)
        {
            (ulong start, ulong length) = _queries[_next++ & _mask];
            _space!.BeginInvalidation(new InvalidationRange(start, start + length)).Dispose();
            sum += _handWritten!.GetOrAdd(start, length, CachePrimary.Factory, _primary).Version;
        }

        return sum;
    }

    [BenchmarkCategory("after-write"), Benchmark(OperationsPerInvoke = MissBatch)]
    public long AfterWrite_CoherentCache()
    {
        long sum = 0;
        for (int i = 0; i < MissBatch; i++)
        {
            (ulong start, ulong length) = _queries[_next++ & _mask];
            _space!.BeginInvalidation(new InvalidationRange(start, start + length)).Dispose();
            sum += _cache!.GetOrAdd(start, length, CachePrimary.Factory, _primary).Version;
        }

        return sum;
    }
}
