using IntervalNotifier.Caching;
using IntervalNotifier.Diagnostics;

namespace IntervalNotifier.Tests.Caching;

/// <summary>docs/contract.md §10: the coherent cache, a sentence at a time.</summary>
public sealed class CoherentCacheTests
{
    private const ulong Region = 0x1000;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static CoherentCache<string> NewCache(AddressSpace space, long? sizeLimit = null, string? name = null) =>
        new(space, new CoherentCacheOptions { Granularity = Region, SizeLimit = sizeLimit, Name = name });

    [Fact]
    public void GetOrAdd_Miss_ProducesOnceAndCaches_ThenHits()
    {
        using var space = new AddressSpace();
        using CoherentCache<string> cache = NewCache(space);
        int calls = 0;
        string Factory(ulong start, ulong length)
        {
            calls++;
            return $"{start:x}+{length}";
        }

        Assert.Equal("10+16", cache.GetOrAdd(0x10, 16, Factory, Ct));
        Assert.Equal("10+16", cache.GetOrAdd(0x10, 16, Factory, Ct));
        Assert.True(cache.TryGetValue(0x10, 16, out string? value));
        Assert.Equal("10+16", value);
        Assert.False(cache.TryGetValue(0x10, 15, out _)); // keys are exact ranges
        Assert.Equal(1, calls);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void BadInput_Throws()
    {
        using var space = new AddressSpace();
        using CoherentCache<string> cache = NewCache(space);
        Assert.Throws<ArgumentOutOfRangeException>("length", () => cache.GetOrAdd(0, 0, (_, _) => "x", Ct));
        Assert.Throws<ArgumentOutOfRangeException>("length", () => cache.GetOrAdd(ulong.MaxValue, 2, (_, _) => "x", Ct));
        Assert.Throws<ArgumentOutOfRangeException>("length", () => cache.TryGetValue(1, 0, out _));
        Assert.Throws<ArgumentNullException>("factory", () => cache.GetOrAdd(0, 1, null!, Ct));
        Assert.Throws<ArgumentNullException>("factory", () => cache.GetOrAddAsync(0, 1, null!, Ct));
        Assert.Throws<ArgumentNullException>("space", () => new CoherentCache<string>(null!));
        Assert.Throws<ArgumentOutOfRangeException>("options", () => new CoherentCache<string>(space, new CoherentCacheOptions { SizeLimit = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>("length", () => new CoherentCache<string>(space, new CoherentCacheOptions { Granularity = 1 }).GetOrAdd(0, 1 << 20, (_, _) => "x", Ct));
    }

    // The bounds themselves: a key may end at the last address, not one past it, and may span
    // MaxRegionsPerKey regions, not one more.
    [Fact]
    [Trait("Found", "mutation testing")]
    public void KeyBounds_AreExact()
    {
        using var space = new AddressSpace();
        using var cache = new CoherentCache<string>(space, new CoherentCacheOptions { Granularity = 1UL << 48 }); // regions the whole space can span
        Assert.Equal("top", cache.GetOrAdd(ulong.MaxValue - 9, 10, (_, _) => "top", Ct));
        Assert.Equal("all but 0", cache.GetOrAdd(1, ulong.MaxValue, (_, _) => "all but 0", Ct) is var v && cache.Count == 2 ? v : "not cached");
        Assert.Throws<ArgumentOutOfRangeException>("length", () => cache.GetOrAdd(2, ulong.MaxValue, (_, _) => "x", Ct));
        Assert.Throws<ArgumentOutOfRangeException>("length", () => cache.TryGetValue(2, ulong.MaxValue, out _));

        using var fine = new CoherentCache<string>(space, new CoherentCacheOptions { Granularity = 1 });
        ulong most = CoherentCache<string>.MaxRegionsPerKey;
        Assert.Throws<ArgumentOutOfRangeException>("length", () => fine.GetOrAdd(0, most + 1, (_, _) => "x", Ct));
        Assert.Equal("widest", fine.GetOrAdd(5, most, (_, _) => "widest", Ct));
    }

    [Fact]
    public void Begin_DropsEveryOverlappingEntry_BeforeItReturns_AndOnlyThose()
    {
        using var space = new AddressSpace();
        using CoherentCache<string> cache = NewCache(space);
        cache.GetOrAdd(0x100, 0x100, (_, _) => "a", Ct);   // [0x100, 0x1ff]
        cache.GetOrAdd(0x180, 0x10, (_, _) => "b", Ct);    // inside a
        cache.GetOrAdd(0x400, 0x100, (_, _) => "c", Ct);   // same region, elsewhere
        cache.GetOrAdd(0xf00, 0x200, (_, _) => "d", Ct);   // spans two regions
        var evicted = new List<CacheEviction<string>>();
        cache.Evicted += (_, e) => evicted.Add(e);

        using (space.BeginInvalidation(new InvalidationRange(0x1f0, 0x200, InvalidationEvent.ProtectionPage)))
        {
            Assert.False(cache.TryGetValue(0x100, 0x100, out _));
            Assert.True(cache.TryGetValue(0x180, 0x10, out _));
            Assert.True(cache.TryGetValue(0x400, 0x100, out _));
            Assert.Equal([new CacheEviction<string>(0x100, 0x100, "a", EvictionReason.Invalidated)], evicted);
        }

        using (space.BeginInvalidation(new InvalidationRange(0x1000, 0x1001)))
        {
            Assert.False(cache.TryGetValue(0xf00, 0x200, out _)); // hit through its second region
        }

        Assert.Equal(2, cache.Count);
        Assert.Equal(["a", "d"], evicted.Select(e => e.Value));
    }

    // Both lookup paths (the synchronous factory and the asynchronous one) wait only for a
    // running invalidation that overlaps the key, and count the wait.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AMiss_WaitsOnlyForRunningInvalidationsThatOverlapItsKey(bool async)
    {
        using var space = new AddressSpace();
        using var metrics = MetricsRecorder.ForNewCache();
        using CoherentCache<string> cache = NewCache(space, name: metrics.SpaceName);
        Task<string> Lookup(ulong start, ulong length, string value) => async
            ? cache.GetOrAddAsync(start, length, (_, _, _) => ValueTask.FromResult(value), Ct).AsTask()
            : Waiting.OnThread(() => cache.GetOrAdd(start, length, (_, _) => value, Ct));
        cache.GetOrAdd(0x100, 0x10, (_, _) => "region 0 in use", Ct);
        cache.GetOrAdd(0x5100, 0x10, (_, _) => "region 5 in use", Ct);
        InvalidationScope open = Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0x5100, 0x5110))), "writer's begin");

        // Another region, and the same region outside the running range: no wait.
        Assert.Equal("x", Waiting.Completes(Lookup(0x200, 0x10, "x"), "a miss in another region"));
        Assert.Equal("y", Waiting.Completes(Lookup(0x5800, 0x10, "y"), "a miss outside the running range"));

        // Inside the running range: the primary is changing; wait for the end.
        Task<string> inside = Lookup(0x5100, 0x20, "after");
        Waiting.AssertBlocked(inside, "a miss inside a running invalidation");
        Waiting.Completes(Waiting.OnThread(open.Dispose), "writer's end");
        Assert.Equal("after", await inside.WaitAsync(Waiting.Patience, Ct));
        Assert.Equal(1, metrics[NotifierMetrics.CacheInvalidationWaits]);
        Assert.Equal(5, metrics[NotifierMetrics.CacheMisses]);
    }

    // Both lookup paths (the synchronous factory and the asynchronous one) retry a production
    // an overlapping begin interrupted, never cache the stale value, count the retry, and dispose
    // the value nobody saw.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnInterruptedProduction_IsRetried_CountedAndItsUnseenValueDisposed(bool async)
    {
        using var space = new AddressSpace();
        using var metrics = MetricsRecorder.ForNewCache();
        using var cache = new CoherentCache<Versioned>(space, new CoherentCacheOptions { Granularity = Region, Name = metrics.SpaceName, DisposeEvictedValues = true });
        int version = 0;
        var produced = new List<Versioned>();
        Versioned Produce()
        {
            var value = new Versioned(Volatile.Read(ref version));
            produced.Add(value);
            if (produced.Count == 1)
            {
                Waiting.Completes(Waiting.OnThread(() =>
                {
                    using (space.BeginInvalidation(new InvalidationRange(0x10, 0x11)))
                    {
                        Volatile.Write(ref version, 1);
                    }
                }), "writer");
            }

            return value;
        }

        Versioned result = async
            ? await cache.GetOrAddAsync(0, 0x100, async (_, _, _) => { await Task.Yield(); return Produce(); }, Ct)
            : cache.GetOrAdd(0, 0x100, (_, _) => Produce(), Ct);

        Assert.Equal(1, result.Version);
        Assert.Equal(2, produced.Count);
        Assert.True(produced[0].Disposed);  // produced, never published, never seen
        Assert.False(result.Disposed);
        Assert.Equal(1, metrics[NotifierMetrics.CacheRetries]);
        Assert.Same(result, cache.GetOrAdd(0, 0x100, (_, _) => Produce(), Ct)); // cached, not produced again
        Assert.Equal(2, produced.Count);
    }

    private sealed class Versioned(int version) : IDisposable
    {
        public int Version { get; } = version;

        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }

    [Fact]
    public void AMissInANewRegion_WhileInvalidationsRun_WaitsForThem()
    {
        using var space = new AddressSpace();
        space.Subscribe(0, 1, new RecordingInvalidator());
        using CoherentCache<string> cache = NewCache(space);
        InvalidationScope open = Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0, 1))), "begin");

        // The new region's subscription is deferred: the running walks cannot see it (§5).
        Task<string> miss = Waiting.OnThread(() => cache.GetOrAdd(0x9000, 0x10, (_, _) => "v", Ct));
        Waiting.AssertBlocked(miss, "a miss in a region subscribed during running invalidations");
        Waiting.Completes(Waiting.OnThread(open.Dispose), "end");
        Assert.Equal("v", Waiting.Completes(miss, "the miss"));
    }

    [Fact]
    public void ConcurrentLookupsOfOneKey_ProduceOnce_AndAllGetItsValue()
    {
        using var space = new AddressSpace();
        using var metrics = MetricsRecorder.ForNewCache();
        using CoherentCache<string> cache = NewCache(space, name: metrics.SpaceName);
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int calls = 0;
        string Factory(ulong start, ulong length)
        {
            Interlocked.Increment(ref calls);
            started.Set();
            release.Wait(Ct);
            return "once";
        }

        Task<string> first = Waiting.OnThread(() => cache.GetOrAdd(0, 0x10, Factory, Ct));
        Assert.True(Waiting.For(started));
        Task<string> second = Waiting.OnThread(() => cache.GetOrAdd(0, 0x10, Factory, Ct));
        Task<string> third = cache.GetOrAddAsync(0, 0x10, (_, _, _) => ValueTask.FromResult("other"), Ct).AsTask();
        Waiting.Until(() => metrics[NotifierMetrics.CacheProductionWaits] == 2, "both lookups wait for the production");
        release.Set();

        Assert.Equal(["once", "once", "once"], [Waiting.Completes(first, "first"), Waiting.Completes(second, "second"), Waiting.Completes(third, "third")]);
        Assert.Equal(1, calls);
    }

    [Fact]
    public void AFactoryThatThrows_CachesNothing_AndEveryWaiterGetsItsException()
    {
        using var space = new AddressSpace();
        using CoherentCache<string> cache = NewCache(space);
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        string Throwing(ulong start, ulong length)
        {
            started.Set();
            release.Wait(Ct);
            throw new FormatException("bad texture");
        }

        Task<string> producer = Waiting.OnThread(() => cache.GetOrAdd(0, 0x10, Throwing, Ct));
        Assert.True(Waiting.For(started));
        Task<string> waiter = Waiting.OnThread(() => cache.GetOrAdd(0, 0x10, (_, _) => "never", Ct));
        Waiting.AssertBlocked(waiter, "a waiter of the production");
        release.Set();

        Assert.IsType<FormatException>(Assert.ThrowsAny<AggregateException>(() => producer.Wait(Waiting.Patience, Ct)).InnerException);
        Assert.IsType<FormatException>(Assert.ThrowsAny<AggregateException>(() => waiter.Wait(Waiting.Patience, Ct)).InnerException);
        Assert.Equal(0, cache.Count);
        Assert.Equal("again", cache.GetOrAdd(0, 0x10, (_, _) => "again", Ct));
    }

    // The synchronous path's fault, cancellation and release cases, with the production (or the
    // join) on the test's own thread: the joining lookup gets the producer's exception; a
    // factory's own OperationCanceledException, while the lookup's token is not cancelled, is a
    // fault like any other; a producer whose lookup is cancelled hands the key to the joiner.
    [Fact]
    [Trait("Found", "mutation testing")]
    public void AFactoryThatThrows_OnTheSynchronousPath_HandsItsExceptionToTheJoiner_AndLeavesNoProduction()
    {
        using var space = new AddressSpace();
        using var metrics = MetricsRecorder.ForNewCache();
        using CoherentCache<string> cache = NewCache(space, name: metrics.SpaceName);
        Task<string>? joiner = null;
        var e = Assert.Throws<FormatException>(() => cache.GetOrAdd(0, 0x10, (_, _) =>
        {
            joiner = Waiting.OnThread(() => cache.GetOrAdd(0, 0x10, (_, _) => "never", Ct));
            Waiting.Until(() => metrics[NotifierMetrics.CacheProductionWaits] == 1, "the joiner waits for this production");
            throw new FormatException("bad texture");
        }, Ct));

        Assert.Equal("bad texture", e.Message);
        Assert.NotNull(joiner);
        Assert.Same(e, Assert.Throws<FormatException>(() => joiner.WaitAsync(Waiting.Patience, Ct).GetAwaiter().GetResult()));
        Assert.Equal(0, cache.Count);
        Assert.Equal("again", cache.GetOrAdd(0, 0x10, (_, _) => "again", Ct)); // no production left behind
    }

    [Theory]
    [Trait("Found", "mutation testing")]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AFactorysOwnCancellation_WhileTheLookupsTokenIsNot_IsAFault_ThatTheJoinerGets(bool async)
    {
        using var space = new AddressSpace();
        using var metrics = MetricsRecorder.ForNewCache();
        using CoherentCache<string> cache = NewCache(space, name: metrics.SpaceName);
        Task<string>? joiner = null;
        void JoinThenThrow()
        {
            joiner = Waiting.OnThread(() => cache.GetOrAdd(0, 0x10, (_, _) => "never", Ct));
            Waiting.Until(() => metrics[NotifierMetrics.CacheProductionWaits] == 1, "the joiner waits for this production");
            throw new OperationCanceledException("the device timed out");
        }

        OperationCanceledException e = async
            ? await Assert.ThrowsAsync<OperationCanceledException>(async () => await cache.GetOrAddAsync(0, 0x10, (_, _, _) =>
            {
                JoinThenThrow();
                return ValueTask.FromResult("never");
            }, Ct))
            : Assert.Throws<OperationCanceledException>(() => cache.GetOrAdd(0, 0x10, (_, _) =>
            {
                JoinThenThrow();
                return "never";
            }, Ct));

        Assert.Equal("the device timed out", e.Message);
        Assert.NotNull(joiner);
        Assert.Same(e, Assert.Throws<OperationCanceledException>(() => joiner.WaitAsync(Waiting.Patience, Ct).GetAwaiter().GetResult())); // a fault, not a hand-over
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    [Trait("Found", "mutation testing")]
    public void ACancelledProducer_OnTheSynchronousPath_HandsTheProductionToTheJoiner()
    {
        using var space = new AddressSpace();
        using var metrics = MetricsRecorder.ForNewCache();
        using CoherentCache<string> cache = NewCache(space, name: metrics.SpaceName);
        using var cts = new CancellationTokenSource();
        using var started = new ManualResetEventSlim();
        Task<string> producer = Waiting.OnThread(() => cache.GetOrAdd(0, 0x10, (_, _) =>
        {
            started.Set();
            Task.Delay(Timeout.Infinite, cts.Token).GetAwaiter().GetResult();
            return "never";
        }, cts.Token));
        Assert.True(Waiting.For(started));
        Task canceller = Waiting.OnThread(() =>
        {
            Waiting.Until(() => metrics[NotifierMetrics.CacheProductionWaits] == 1, "this thread's lookup joins the production");
            cts.Cancel();
        });

        Assert.Equal("taken over", cache.GetOrAdd(0, 0x10, (_, _) => "taken over", Ct)); // joins, then produces itself

        Waiting.Completes(canceller, "the canceller");
        Assert.ThrowsAny<OperationCanceledException>(() => producer.WaitAsync(Waiting.Patience, Ct).GetAwaiter().GetResult());
        Assert.Equal(1, cache.Count);
    }

    // A lookup after the address space was released cannot subscribe its region: it throws, and
    // leaves no production that a later lookup of the key would wait for.
    [Fact]
    [Trait("Found", "mutation testing")]
    public void ALookup_AfterTheAddressSpaceWasReleased_Throws_AndLeavesNothingToWaitFor()
    {
        var space = new AddressSpace();
        using CoherentCache<string> cache = NewCache(space);
        space.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cache.GetOrAdd(0, 0x10, (_, _) => "a", Ct));
        Assert.Throws<ObjectDisposedException>(() => Waiting.OnThread(() => cache.GetOrAdd(0, 0x10, (_, _) => "a", Ct)).WaitAsync(Waiting.Patience, Ct).GetAwaiter().GetResult());
        Assert.Equal(0, cache.Count);
    }

    // Without a token that can be cancelled, the synchronous path waits for a running
    // invalidation in the blocking form — once, not in a loop.
    [Fact]
    [Trait("Found", "mutation testing")]
    public void AMissWithoutAToken_WaitsOnceForARunningInvalidationOfItsKey()
    {
        using var space = new AddressSpace();
        using var metrics = MetricsRecorder.ForNewCache();
        using CoherentCache<string> cache = NewCache(space, name: metrics.SpaceName);
        cache.GetOrAdd(0x100, 0x10, (_, _) => "region in use", CancellationToken.None);
        using var begun = new ManualResetEventSlim();
        Task writer = Waiting.OnThread(() =>
        {
            using InvalidationScope open = space.BeginInvalidation(new InvalidationRange(0x100, 0x110));
            begun.Set();
            Waiting.Until(() => metrics[NotifierMetrics.CacheInvalidationWaits] != 0, "the miss waits");
            Thread.Sleep(Waiting.Watch); // a miss that did not block would count many waits meanwhile
        });
        Assert.True(Waiting.For(begun));

        Assert.Equal("after", cache.GetOrAdd(0x100, 0x10, (_, _) => "after", CancellationToken.None));

        Waiting.Completes(writer, "the writer");
        Assert.Equal(1, metrics[NotifierMetrics.CacheInvalidationWaits]);
    }

    [Fact]
    public async Task ACancelledProducer_HandsTheProductionToAWaiter()
    {
        using var space = new AddressSpace();
        using CoherentCache<string> cache = NewCache(space);
        using var cts = new CancellationTokenSource();
        var started = new TaskCompletionSource();
        ValueTask<string> producer = cache.GetOrAddAsync(0, 0x10, async (_, _, token) =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, token);
            return "never";
        }, cts.Token);
        await started.Task.WaitAsync(Waiting.Patience, Ct);
        ValueTask<string> waiter = cache.GetOrAddAsync(0, 0x10, (_, _, _) => ValueTask.FromResult("taken over"), Ct);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await producer);
        Assert.Equal("taken over", await waiter.AsTask().WaitAsync(Waiting.Patience, Ct));
    }

    [Fact]
    public void ALookupWaitingForAnInvalidation_CanBeCancelled_LeavingNothingBehind()
    {
        using var space = new AddressSpace();
        using CoherentCache<string> cache = NewCache(space);
        cache.GetOrAdd(0x100, 0x10, (_, _) => "region in use", Ct);
        InvalidationScope open = Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0x100, 0x110))), "begin");
        using var cts = new CancellationTokenSource();
        Task<string> miss = Waiting.OnThread(() => cache.GetOrAdd(0x100, 0x10, (_, _) => "v", cts.Token));
        Waiting.AssertBlocked(miss, "a miss inside a running invalidation");

        cts.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => miss.GetAwaiter().GetResult());
        Waiting.Completes(Waiting.OnThread(open.Dispose), "end");
        Assert.Equal("fresh", cache.GetOrAdd(0x100, 0x10, (_, _) => "fresh", Ct)); // no stranded production
    }

    [Fact]
    public void SizeLimit_EvictsWhatWasNotUsedRecently()
    {
        using var space = new AddressSpace();
        using CoherentCache<string> cache = NewCache(space, sizeLimit: 2);
        var evicted = new List<CacheEviction<string>>();
        cache.Evicted += (_, e) => evicted.Add(e);
        cache.GetOrAdd(0, 1, (_, _) => "a", Ct);
        cache.GetOrAdd(1, 1, (_, _) => "b", Ct);
        cache.GetOrAdd(2, 1, (_, _) => "c", Ct); // all new: the oldest goes
        Assert.Equal([new CacheEviction<string>(0, 1, "a", EvictionReason.Capacity)], evicted);

        Assert.True(cache.TryGetValue(1, 1, out _)); // b is used again: c goes next, not b
        cache.GetOrAdd(3, 1, (_, _) => "d", Ct);

        Assert.Equal(2, cache.Count);
        Assert.Equal(["a", "c"], evicted.Select(e => e.Value));
        Assert.True(cache.TryGetValue(1, 1, out _));
        Assert.True(cache.TryGetValue(3, 1, out _));
    }

    // Every way of finding an entry counts a hit and marks the entry used, so that the size
    // limit evicts another one first: GetOrAdd, its state form, GetOrAddAsync and TryGetValue.
    [Theory]
    [Trait("Found", "mutation testing")]
    [InlineData("GetOrAdd")]
    [InlineData("GetOrAdd with state")]
    [InlineData("GetOrAddAsync")]
    [InlineData("TryGetValue")]
    public async Task EveryHit_IsCounted_AndMarksTheEntryUsed(string form)
    {
        using var space = new AddressSpace();
        using var metrics = MetricsRecorder.ForNewCache();
        using CoherentCache<string> cache = NewCache(space, sizeLimit: 2, name: metrics.SpaceName);
        var evicted = new List<string>();
        cache.Evicted += (_, e) => evicted.Add(e.Value);
        cache.GetOrAdd(0, 1, (_, _) => "a", Ct);
        cache.GetOrAdd(1, 1, (_, _) => "b", Ct);
        cache.GetOrAdd(2, 1, (_, _) => "c", Ct); // all new: a goes; b is next unless it is used

        string found = form switch
        {
            "GetOrAdd" => cache.GetOrAdd(1, 1, (_, _) => "produced", Ct),
            "GetOrAdd with state" => cache.GetOrAdd(1, 1, (_, _, state) => state, "produced", Ct),
            "GetOrAddAsync" => await cache.GetOrAddAsync(1, 1, (_, _, _) => ValueTask.FromResult("produced"), Ct),
            _ => cache.TryGetValue(1, 1, out string? value) ? value : "none",
        };
        cache.GetOrAdd(3, 1, (_, _) => "d", Ct);

        Assert.Equal("b", found);
        Assert.Equal(1, metrics[NotifierMetrics.CacheHits]);
        Assert.Equal(["a", "c"], evicted); // b was used: c went instead
    }

    [Fact]
    public void Remove_EvictsWithReasonRemoved()
    {
        using var space = new AddressSpace();
        using CoherentCache<string> cache = NewCache(space);
        var reasons = new List<EvictionReason>();
        cache.Evicted += (_, e) => reasons.Add(e.Reason);
        cache.GetOrAdd(0, 1, (_, _) => "a", Ct);

        Assert.True(cache.Remove(0, 1));
        Assert.False(cache.Remove(0, 1));
        Assert.Equal([EvictionReason.Removed], reasons);
        Assert.Equal(0, cache.Count);
    }

    private sealed class Disposable(string name) : IDisposable
    {
        public string Name { get; } = name;

        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }

    [Fact]
    public void DisposeEvictedValues_DisposesEveryEvictedValue_AfterItsNotification()
    {
        using var space = new AddressSpace();
        var cache = new CoherentCache<Disposable>(space, new CoherentCacheOptions { Granularity = Region, SizeLimit = 3, DisposeEvictedValues = true });
        var seenUndisposed = new List<string>();
        cache.Evicted += (_, e) =>
        {
            if (!e.Value.Disposed)
            {
                seenUndisposed.Add(e.Value.Name);
            }
        };
        Disposable invalidated = cache.GetOrAdd(0, 1, (_, _) => new Disposable("invalidated"), Ct);
        Disposable removed = cache.GetOrAdd(1, 1, (_, _) => new Disposable("removed"), Ct);
        Disposable kept = cache.GetOrAdd(2, 1, (_, _) => new Disposable("kept"), Ct);
        space.BeginInvalidation(new InvalidationRange(0, 1)).Dispose();
        cache.Remove(1, 1);
        cache.Dispose();

        Assert.True(invalidated.Disposed && removed.Disposed && kept.Disposed);
        Assert.Equal(["invalidated", "removed", "kept"], seenUndisposed);
    }

    [Fact]
    public void Dispose_EvictsEverything_UnsubscribesEveryRegion_AndLookupsThrow()
    {
        using var space = new AddressSpace();
        var cache = NewCache(space);
        var reasons = new List<EvictionReason>();
        cache.Evicted += (_, e) => reasons.Add(e.Reason);
        cache.GetOrAdd(0, 1, (_, _) => "a", Ct);
        cache.GetOrAdd(Region * 3, 1, (_, _) => "b", Ct);
        Assert.Equal(2, space.SubscriptionCount);

        cache.Dispose();
        cache.Dispose();

        Assert.Equal([EvictionReason.Disposed, EvictionReason.Disposed], reasons);
        Assert.Equal(0, space.SubscriptionCount);
        Assert.Equal(0, cache.Count);
        Assert.Throws<ObjectDisposedException>(() => cache.GetOrAdd(0, 1, (_, _) => "a", Ct));
    }

    [Fact]
    public void Subscriptions_AreOnePerRegionInUse_Reused_AndIdleOnesDroppedBeyondTheLimit()
    {
        using var space = new AddressSpace();
        using CoherentCache<string> cache = NewCache(space);
        for (ulong i = 0; i < 8; i++)
        {
            cache.GetOrAdd(i * 0x10, 0x10, (_, _) => "same region", Ct);
        }

        Assert.Equal(1, space.SubscriptionCount);
        int regions = CoherentCache<string>.MaxIdleRegions + 10;
        for (ulong i = 1; i <= (ulong)regions; i++)
        {
            cache.GetOrAdd(i * Region, 1, (_, _) => "v", Ct);
        }

        Assert.Equal(regions + 1, space.SubscriptionCount);

        // Invalidate everything: every region falls idle from inside its own callback; those past
        // the limit are dropped there (UnsubscribeDeferred: no throw, no wait).
        space.BeginInvalidation(InvalidationRange.Inclusive(0, ulong.MaxValue)).Dispose();

        Assert.Equal(0, cache.Count);
        Assert.Equal(CoherentCache<string>.MaxIdleRegions, space.SubscriptionCount);
        Assert.Equal(CoherentCache<string>.MaxIdleRegions, cache.RegionCount);
    }

    [Fact]
    public void EvictionNotifications_RunOutsideTheCachesLock()
    {
        using var space = new AddressSpace();
        using CoherentCache<string> cache = NewCache(space);
        cache.GetOrAdd(0, 1, (_, _) => "a", Ct);
        cache.GetOrAdd(Region * 2, 1, (_, _) => "other", Ct);
        bool removedFromAnotherThread = false;
        cache.Evicted += (_, e) =>
        {
            if (e.Reason == EvictionReason.Invalidated)
            {
                // Would deadlock if the handler ran under the cache's lock.
                removedFromAnotherThread = Task.Run(() => cache.Remove(Region * 2, 1), Ct).Wait(Waiting.Patience, Ct);
            }
        };

        space.BeginInvalidation(new InvalidationRange(0, 1)).Dispose();

        Assert.True(removedFromAnotherThread);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void AHandlerThatThrows_ReachesTheInvalidator_AfterEveryEvictionIsDone()
    {
        using var space = new AddressSpace();
        using CoherentCache<string> cache = NewCache(space);
        cache.GetOrAdd(0, 1, (_, _) => "a", Ct);
        cache.GetOrAdd(1, 1, (_, _) => "b", Ct);
        int reported = 0;
        cache.Evicted += (_, _) =>
        {
            reported++;
            throw new FormatException("handler");
        };

        Assert.ThrowsAny<Exception>(() => space.BeginInvalidation(new InvalidationRange(0, 2)).Dispose());

        Assert.Equal(2, reported);
        Assert.Equal(0, cache.Count);
        Assert.Equal(0, space.ActiveInvalidations);
    }

    [Fact]
    public void AMissThatMustWait_FromInsideACallback_Throws()
    {
        using var space = new AddressSpace();
        using CoherentCache<string> cache = NewCache(space);
        cache.GetOrAdd(0, 1, (_, _) => "a", Ct);
        Exception? thrown = null;
        space.Subscribe(0, 1, new RecordingInvalidator(onInvalidate: (_, range, _) =>
        {
            if (range.Event != InvalidationEvent.Release)
            {
                thrown = Record.Exception(() => cache.GetOrAdd(0, 1, (_, _) => "inside", Ct));
            }

            return true;
        }));

        space.BeginInvalidation(new InvalidationRange(0, 1)).Dispose();

        Assert.IsType<InvalidOperationException>(thrown);
        Assert.Equal("after", cache.GetOrAdd(0, 1, (_, _) => "after", Ct)); // nothing stranded
    }

    // A lookup that would join another lookup's production of the same key, made while the
    // calling thread holds a bracket of the address space (here, between a begin and its end,
    // on a range the key does not touch), throws: that production may wait for the bracket.
    [Fact]
    [Trait("Found", "mutation testing")]
    public void JoiningAProduction_WhileHoldingABracket_Throws_AndTheProductionCompletes()
    {
        using var space = new AddressSpace();
        using CoherentCache<string> cache = NewCache(space);
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        Task<string> producer = Waiting.OnThread(() => cache.GetOrAdd(0, 0x10, (_, _) =>
        {
            started.Set();
            release.Wait(Ct);
            return "produced";
        }, Ct));
        Assert.True(Waiting.For(started));

        Exception? thrown;
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        patience.CancelAfter(Waiting.Patience); // a join that waited would fail the test, not hang it
        using (space.BeginInvalidation(new InvalidationRange(10 * Region, 11 * Region)))
        {
            thrown = Record.Exception(() => cache.GetOrAdd(0, 0x10, (_, _) => "joined", patience.Token));
        }

        release.Set();
        var e = Assert.IsType<InvalidOperationException>(thrown);
        Assert.Contains("holds an invalidation of this address space open", e.Message, StringComparison.Ordinal);
        Assert.Equal("produced", Waiting.Completes(producer, "the production"));
        Assert.Equal("produced", cache.GetOrAdd(0, 0x10, (_, _) => "again", Ct));
    }

    [Fact]
    public void Metrics_CountHitsMissesAndEvictionsByReason()
    {
        using var space = new AddressSpace();
        using var metrics = MetricsRecorder.ForNewCache();
        using CoherentCache<string> cache = NewCache(space, sizeLimit: 1, name: metrics.SpaceName);
        cache.GetOrAdd(0, 1, (_, _) => "a", Ct);
        cache.GetOrAdd(0, 1, (_, _) => "a", Ct);
        cache.TryGetValue(0, 1, out _);
        cache.GetOrAdd(1, 1, (_, _) => "b", Ct); // evicts a (capacity)
        space.BeginInvalidation(new InvalidationRange(1, 2)).Dispose();

        Assert.Equal(2, metrics[NotifierMetrics.CacheHits]);
        Assert.Equal(2, metrics[NotifierMetrics.CacheMisses]);
        Assert.Equal(2, metrics[NotifierMetrics.CacheEvictions]);
        Assert.Equal(["Capacity", "Invalidated"], metrics.TagValues(NotifierMetrics.CacheEvictions, NotifierMetrics.ReasonTag));
    }

    [Fact]
    public void Hits_AllocateNothing()
    {
        using var space = new AddressSpace();
        using CoherentCache<string> cache = NewCache(space);
        Func<ulong, ulong, string> factory = (_, _) => "v";
        cache.GetOrAdd(0, 0x10, factory, Ct);
        cache.GetOrAdd(0, 0x10, factory, Ct); // warm
        cache.TryGetValue(0, 0x10, out _);
        _ = cache.GetOrAddAsync(0, 0x10, (_, _, _) => ValueTask.FromResult("x"), Ct);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            cache.GetOrAdd(0, 0x10, factory, Ct);
            cache.TryGetValue(0, 0x10, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void AnInvalidationThatHitsNoEntry_AllocatesNothing()
    {
        using var space = new AddressSpace();
        using CoherentCache<string> cache = NewCache(space);
        cache.GetOrAdd(0, 0x10, (_, _) => "v", Ct);
        var elsewhere = new InvalidationRange(0x800, 0x810);
        space.BeginInvalidation(elsewhere).Dispose(); // warm

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            space.BeginInvalidation(elsewhere).Dispose();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1, cache.Count);
    }
}
