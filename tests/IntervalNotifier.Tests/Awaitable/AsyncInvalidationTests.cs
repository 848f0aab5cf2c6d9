using System.Threading.Tasks.Sources;

namespace IntervalNotifier.Tests.Awaitable;

/// <summary>docs/contract.md §9: the awaitable begin, its finish pass, and its scope.</summary>
public sealed class AsyncInvalidationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static (AddressSpace Space, AsyncDevice[] Devices, FinishRecordPool<DeviceRecord> Pool, List<string> Log) ThreeDevices()
    {
        var log = new List<string>();
        var pool = new FinishRecordPool<DeviceRecord>(8);
        var space = new AddressSpace();
        AsyncDevice[] devices = [new("a", pool, log), new("b", pool, log), new("c", pool, log)];
        for (int i = 0; i < devices.Length; i++)
        {
            space.Subscribe((ulong)i, 10, devices[i]); // walk order a, b, c
        }

        return (space, devices, pool, log);
    }

    [Fact]
    public async Task Begin_CallsEveryFinishInStartOrder_BeforeAwaitingAny_AndCompletesAfterTheLast()
    {
        (AddressSpace space, AsyncDevice[] devices, FinishRecordPool<DeviceRecord> pool, List<string> log) = ThreeDevices();
        ValueTask<InvalidationScope> begin = space.BeginInvalidationAsync(new InvalidationRange(0, 20));

        Assert.False(begin.IsCompleted);
        Assert.Equal(["a start", "b start", "c start", "a finish called", "b finish called", "c finish called"], log);
        Assert.Equal(3, pool.Rented);

        // Completed out of order: each record goes back when its own finish has completed.
        devices[2].Completions[0].SetResult();
        Waiting.Until(() => pool.Rented == 2, "c's record is back");
        devices[0].Completions[0].SetResult();
        Waiting.Until(() => pool.Rented == 1, "a's record is back");
        Assert.False(begin.IsCompleted); // b is still running
        Assert.Equal(1UL, space.Sequence & 1);

        devices[1].Completions[0].SetResult();
        InvalidationScope scope = await begin.AsTask().WaitAsync(Waiting.Patience, Ct);
        Assert.Equal(0, pool.Rented);
        Assert.All(devices, d => Assert.Equal(1, d.Finishes));
        Assert.Equal(1, space.ActiveInvalidations); // the bracket stays open until the scope ends it
        scope.Dispose();
        Assert.Equal(0UL, space.Sequence & 1);
        foreach (AsyncDevice d in devices)
        {
            d.CompletesAtOnce = true; // for the release
        }

        await space.DisposeAsync().AsTask().WaitAsync(Waiting.Patience, Ct);
    }

    [Fact]
    public async Task AFaultedFinish_TheOthersStillComplete_TheBracketIsEnded_AndTheBeginFaults()
    {
        (AddressSpace space, AsyncDevice[] devices, FinishRecordPool<DeviceRecord> pool, _) = ThreeDevices();
        ValueTask<InvalidationScope> begin = space.BeginInvalidationAsync(new InvalidationRange(0, 20));
        var boom = new FormatException("device b failed");
        devices[1].Completions[0].SetException(boom);
        devices[0].Completions[0].SetResult();
        Assert.False(begin.IsCompleted); // c still runs: the begin waits for every finish
        devices[2].Completions[0].SetResult();

        Exception thrown = await Assert.ThrowsAsync<FormatException>(async () => await begin);
        Assert.Same(boom, thrown);
        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(0UL, space.Sequence & 1);
        Assert.Equal(0, pool.Rented);
        foreach (AsyncDevice d in devices)
        {
            d.CompletesAtOnce = true;
        }

        await space.DisposeAsync().AsTask().WaitAsync(Waiting.Patience, Ct);
    }

    [Fact]
    public async Task ASynchronousTwoPassSubscriber_AmongAsynchronousOnes_IsFinishedInline_InStartOrder()
    {
        var log = new List<string>();
        var pool = new FinishRecordPool<DeviceRecord>(8);
        var space = new AddressSpace();
        await using var disposal = Waiting.DisposesInTime(space);
        var first = new AsyncDevice("a", pool, log);
        var middle = new TwoPassDevice("sync", pool, log);
        var last = new AsyncDevice("c", pool, log);
        space.Subscribe(0, 10, first);
        space.Subscribe(1, 10, middle);
        space.Subscribe(2, 10, last);

        ValueTask<InvalidationScope> begin = space.BeginInvalidationAsync(new InvalidationRange(0, 20));
        Assert.Equal(1, middle.Finishes); // inline, before any asynchronous one is awaited
        int sync = log.FindIndex(e => e.StartsWith("finish:sync", StringComparison.Ordinal));
        Assert.True(log.IndexOf("a finish called") < sync && sync < log.IndexOf("c finish called"), string.Join(", ", log));
        first.Completions[0].SetResult();
        last.Completions[0].SetResult();
        (await begin).Dispose();
        first.CompletesAtOnce = last.CompletesAtOnce = true;
    }

    [Fact]
    public async Task AnAsynchronousScope_MayBeDisposedOnAnyThread_Once()
    {
        var space = new AddressSpace();
        await using var disposal = Waiting.DisposesInTime(space);
        space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope scope = await space.BeginInvalidationAsync(new InvalidationRange(0, 10));
        await Waiting.OnThread(scope.Dispose);
        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Throws<InvalidOperationException>(scope.Dispose);
    }

    [Fact]
    public async Task ASynchronousScope_EndedOnAnotherThread_IsEndedAnyway_AndTheMisuseNamesTheAsyncBegin()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope scope = space.BeginInvalidation(new InvalidationRange(0, 10));
        Exception? thrown = await Waiting.OnThread(() => Record.Exception(scope.Dispose));
        var misuse = Assert.IsType<InvalidOperationException>(thrown);
        Assert.Contains(nameof(AddressSpace.BeginInvalidationAsync), misuse.Message, StringComparison.Ordinal);
        Assert.Equal(0, space.ActiveInvalidations); // nothing stranded
        Assert.Equal(0UL, space.Sequence & 1);
        Assert.Equal(s.Sequence, s.ReadBegin());
        Assert.Throws<InvalidOperationException>(scope.Dispose); // ended: once
    }

    [Fact]
    public async Task InTheContinuationOfAnAsynchronousFinish_WaitsForTheRunningInvalidationThrow()
    {
        var log = new List<string>();
        var pool = new FinishRecordPool<DeviceRecord>(4);
        var space = new AddressSpace();
        await using var disposal = Waiting.DisposesInTime(space);
        var device = new AsyncDevice("a", pool, log);
        IntervalSubscription self = space.Subscribe(0, 10, device);
        IntervalSubscription victim = space.Subscribe(5, 10, new RecordingInvalidator());
        var thrown = new List<Exception?>();
        device.InContinuation = () =>
        {
            lock (thrown)
            {
                thrown.Add(Record.Exception(victim.Unsubscribe));
                thrown.Add(Record.Exception(() => victim.UnsubscribeAsync(Ct)));
                thrown.Add(Record.Exception(() => self.ReadBegin()));
                thrown.Add(Record.Exception(() => self.ReadBeginAsync(Ct)));
                thrown.Add(Record.Exception(() => space.Subscribe(50, 1, new RecordingInvalidator()).Dispose())); // allowed: a deferred insert, dropped
            }
        };

        ValueTask<InvalidationScope> begin = space.BeginInvalidationAsync(new InvalidationRange(0, 20));
        Waiting.Until(() =>
        {
            lock (thrown)
            {
                return thrown.Count == 5;
            }
        }, "the continuation ran");
        device.Completions[0].SetResult();
        (await begin).Dispose();

        Assert.Equal(5, thrown.Count);
        Assert.All(thrown.Take(4), e => Assert.IsType<InvalidOperationException>(e));
        Assert.Null(thrown[4]);
        Assert.True(victim.IsSubscribed); // nothing changed
        device.InContinuation = null;
        device.CompletesAtOnce = true;
    }

    [Fact]
    public async Task DisposeAsync_AwaitsPendingFinishesOfTheRelease()
    {
        var log = new List<string>();
        var pool = new FinishRecordPool<DeviceRecord>(4);
        var space = new AddressSpace();
        var device = new AsyncDevice("a", pool, log) { PendsOnRelease = true };
        space.Subscribe(0, 10, device);

        ValueTask dispose = space.DisposeAsync();
        Assert.False(dispose.IsCompleted);
        Assert.Equal(1, space.ActiveInvalidations);
        ValueTask second = space.DisposeAsync(); // waits for the first teardown
        Assert.False(second.IsCompleted);
        device.Completions[0].SetResult();
        await dispose;
        await second.AsTask().WaitAsync(Waiting.Patience, Ct);
        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(0, pool.Rented);
        Assert.Throws<ObjectDisposedException>(() => space.BeginInvalidationAsync(new InvalidationRange(0, 1)));
    }

    [Fact]
    public async Task TheSynchronousBegin_WithAnAsynchronousSubscriber_CallsItsBlockingFinish()
    {
        var log = new List<string>();
        var pool = new FinishRecordPool<DeviceRecord>(4);
        var space = new AddressSpace();
        await using var disposal = Waiting.DisposesInTime(space);
        var device = new AsyncDevice("a", pool, log) { CompletesAtOnce = true };
        space.Subscribe(0, 10, device);
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(["a start", "a finish (blocking)"], log);
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public async Task SubscriptionDisposeAsync_WaitsForTheRunningInvalidations_AndIsQuietWhenAlreadyUnsubscribed()
    {
        var space = new AddressSpace();
        await using var disposal = Waiting.DisposesInTime(space);
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope scope = await space.BeginInvalidationAsync(new InvalidationRange(0, 10));
        ValueTask dispose = s.DisposeAsync();
        Assert.False(dispose.IsCompleted);
        Assert.False(s.IsSubscribed);
        scope.Dispose();
        await dispose.AsTask().WaitAsync(Waiting.Patience, Ct);
        await s.DisposeAsync(); // already unsubscribed: nothing
        Assert.Equal(0, space.SubscriptionCount);
    }

    // No thread is blocked while devices are pending, shown without timing: from one thread, 200
    // asynchronous begins over disjoint ranges, each with 4 devices whose completions are held
    // back, all return pending tasks to that thread; released in a seeded random order, every
    // begin completes with its scope.
    [Theory]
    [InlineData(20261201)]
    [InlineData(7)]
    public async Task TwoHundredBegins_FromOneThread_AllPendAtOnce_AndCompleteWhenReleasedInAnyOrder(int seed)
    {
        const int begins = 200;
        var log = new List<string>();
        var pool = new FinishRecordPool<DeviceRecord>(4 * begins);
        var space = new AddressSpace();
        await using var disposal = Waiting.DisposesInTime(space);
        var devices = new AsyncDevice[begins * 4];
        for (int i = 0; i < devices.Length; i++)
        {
            devices[i] = new AsyncDevice($"d{i}", pool, log);
            space.Subscribe((ulong)(i / 4) * 100, 10, devices[i]);
        }

        var pending = new ValueTask<InvalidationScope>[begins];
        for (int i = 0; i < begins; i++)
        {
            pending[i] = space.BeginInvalidationAsync(new InvalidationRange((ulong)i * 100, ((ulong)i * 100) + 10));
        }

        Assert.All(pending, p => Assert.False(p.IsCompleted));
        Assert.Equal(begins, space.ActiveInvalidations);
        Assert.Equal(4 * begins, pool.Rented);

        TaskCompletionSource[] completions = [.. devices.Select(d => Assert.Single(d.Completions))];
        new Random(seed).Shuffle(completions);
        foreach (TaskCompletionSource completion in completions)
        {
            completion.SetResult();
        }

        foreach (ValueTask<InvalidationScope> begin in pending)
        {
            (await begin.AsTask().WaitAsync(Waiting.Patience, Ct)).Dispose();
        }

        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(0, pool.Rented);
        Assert.All(devices, d => d.CompletesAtOnce = true);
    }

    /// <summary>A device bug: its finish task reports pending but refuses a continuation (or cannot say whether it completed).</summary>
    private sealed class BrokenTaskDevice(FinishRecordPool<FinishRecord> pool, bool statusThrows) : IAsyncTwoPassIntervalInvalidator, IValueTaskSource
    {
        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            subscription.SetSequence(currentSequence);
            finish = pool.TryRent(out FinishRecord? record) ? record : null;
            return true;
        }

        public void InvalidateFinish(FinishRecord finish)
        {
        }

        public ValueTask InvalidateFinishAsync(FinishRecord finish) => new(this, 7);

        public ValueTaskSourceStatus GetStatus(short token) =>
            statusThrows ? throw new InvalidOperationException("stale token") : ValueTaskSourceStatus.Pending;

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            throw new InvalidOperationException("already awaited");

        public void GetResult(short token) => throw new InvalidOperationException("never completes");
    }

    // §8: a callback bug never hangs an invalidation nor loses a record. A finish task that
    // cannot be watched counts as a faulted finish; the others still run and the bracket ends.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AFinishTaskThatCannotBeWatched_CountsAsFaulted_TheBeginCompletes_AndItsRecordGoesBack(bool statusThrows)
    {
        var pool = new FinishRecordPool<FinishRecord>(4);
        var log = new List<string>();
        var devicePool = new FinishRecordPool<DeviceRecord>(4);
        var space = new AddressSpace();
        var good = new AsyncDevice("good", devicePool, log) { CompletesAtOnce = true };
        IntervalSubscription broken = space.Subscribe(0, 10, new BrokenTaskDevice(pool, statusThrows));
        space.Subscribe(1, 10, good);

        ValueTask<InvalidationScope> begin = space.BeginInvalidationAsync(new InvalidationRange(0, 20));
        Exception thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () => await begin.AsTask().WaitAsync(Waiting.Patience, Ct));
        Assert.Equal(statusThrows ? "stale token" : "already awaited", thrown.Message);
        Assert.Equal(1, good.Finishes);
        Assert.Equal(0, pool.Rented);
        Assert.Equal(0, devicePool.Rented);
        Assert.Equal(0, space.ActiveInvalidations);
        Assert.Equal(0UL, space.Sequence & 1);
        broken.Dispose(); // the release would call its broken finish again
        space.Dispose();
    }
}
