namespace IntervalNotifier.Tests.Awaitable;

/// <summary>
/// docs/contract.md §9: how an awaitable begin that went pending completes — never inline on a
/// device's thread, with a record whose reset throws, and when its result is read too early.
/// </summary>
public sealed class AsyncBeginCompletionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class ThrowingReset : FinishRecord
    {
        public override bool TryReset() => throw new FormatException("the device's reset failed");
    }

    // An asynchronous device whose one finish completes when the test completes `Completion`,
    // a completion source that runs its continuations inline (as many devices' signals do).
    private sealed class OneFinish<TRecord>(FinishRecordPool<TRecord> pool) : IAsyncTwoPassIntervalInvalidator
        where TRecord : FinishRecord, new()
    {
        public TaskCompletionSource Completion { get; } = new();

        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            subscription.SetSequence(currentSequence);
            finish = range.Event != InvalidationEvent.Release && pool.TryRent(out TRecord? record) ? record : null;
            return true;
        }

        public void InvalidateFinish(FinishRecord finish) => Assert.Fail("the awaitable begin calls the asynchronous finish");

        public ValueTask InvalidateFinishAsync(FinishRecord finish) => new(Completion.Task);
    }

    // The device's thread completes its signal; the code awaiting the begin must not run on it
    // (it would run inside the device's completion path, holding up whatever comes after it).
    [Fact]
    [Trait("Found", "mutation testing")]
    public async Task TheAwaitingCode_NeverResumesInline_OnTheThreadThatCompletesTheLastFinish()
    {
        var space = new AddressSpace();
        await using var disposal = Waiting.DisposesInTime(space);
        var device = new OneFinish<DeviceRecord>(new FinishRecordPool<DeviceRecord>(1));
        space.Subscribe(0, 10, device);

        ValueTask<InvalidationScope> begin = space.BeginInvalidationAsync(new InvalidationRange(0, 10));
        Assert.False(begin.IsCompleted);
        Thread? resumedOn = null;
        Task awaiting = Resume(begin);
        var completer = new Thread(device.Completion.SetResult);
        completer.Start();
        completer.Join();
        await awaiting.WaitAsync(Waiting.Patience, Ct);

        Assert.NotNull(resumedOn);
        Assert.NotSame(completer, resumedOn);
        Assert.Equal(0, space.ActiveInvalidations);

        async Task Resume(ValueTask<InvalidationScope> pending)
        {
            using InvalidationScope scope = await pending.ConfigureAwait(false);
            resumedOn = Thread.CurrentThread;
        }
    }

    [Fact]
    [Trait("Found", "mutation testing")]
    public async Task AResetThatThrows_AfterAPendingFinish_FaultsTheBegin_EndsItsBracket_AndLosesNoRecord()
    {
        var space = new AddressSpace();
        await using var disposal = Waiting.DisposesInTime(space);
        var pool = new FinishRecordPool<ThrowingReset>(1);
        var device = new OneFinish<ThrowingReset>(pool);
        space.Subscribe(0, 10, device);

        ValueTask<InvalidationScope> begin = space.BeginInvalidationAsync(new InvalidationRange(0, 10));
        Assert.False(begin.IsCompleted);
        device.Completion.SetResult();
        FormatException e = await Assert.ThrowsAsync<FormatException>(async () => await begin.AsTask().WaitAsync(Waiting.Patience, Ct));

        Assert.Equal("the device's reset failed", e.Message);
        Assert.Equal(0, space.ActiveInvalidations); // the core ended the bracket
        Assert.Equal(0UL, space.Sequence & 1);
        Assert.Equal(0, pool.Rented); // replaced, and rentable again
        Assert.True(pool.TryRent(out ThrowingReset? again));
        Assert.NotNull(again);
    }

    [Fact]
    [Trait("Found", "mutation testing")]
    public async Task ReadingTheResultOfAPendingBegin_Throws_AndTheBeginStillCompletesWhenAwaited()
    {
        var space = new AddressSpace();
        await using var disposal = Waiting.DisposesInTime(space);
        var device = new OneFinish<DeviceRecord>(new FinishRecordPool<DeviceRecord>(1));
        space.Subscribe(0, 10, device);

        ValueTask<InvalidationScope> begin = space.BeginInvalidationAsync(new InvalidationRange(0, 10));
        var e = Assert.Throws<InvalidOperationException>(() => begin.Result);
        Assert.Contains("await it", e.Message, StringComparison.Ordinal);

        device.Completion.SetResult();
        (await begin.AsTask().WaitAsync(Waiting.Patience, Ct)).Dispose();
        Assert.Equal(0, space.ActiveInvalidations);
    }
}
