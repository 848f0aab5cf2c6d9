namespace IntervalNotifier.Tests.SequenceProtocol;

/// <summary>docs/contract.md §3: <see cref="FaultLoop"/>, the mirror's fault path written once.</summary>
public sealed class FaultLoopTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A one-page mirror whose callback drops its copy under its lock.</summary>
    private sealed class Mirror : IIntervalInvalidator
    {
        public readonly object Lock = new();
        public long? Copy;

        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
        {
            lock (Lock)
            {
                subscription.SetSequence(currentSequence);
                Copy = null;
            }

            return true;
        }
    }

    [Fact]
    public void Run_NoInvalidation_ReadsOnceAndPublishesUnderTheMirrorsLock()
    {
        using var space = new AddressSpace();
        var mirror = new Mirror();
        IntervalSubscription s = space.Subscribe(0, 1, mirror);
        int reads = 0;
        bool lockedWhilePublishing = false;

        long published = FaultLoop.Run(s, mirror.Lock, () => { reads++; return 7L; }, copy =>
        {
            lockedWhilePublishing = Monitor.IsEntered(mirror.Lock);
            mirror.Copy = copy;
        }, Ct);

        Assert.Equal(7, published);
        Assert.Equal(7, mirror.Copy);
        Assert.Equal(1, reads);
        Assert.True(lockedWhilePublishing);
    }

    [Fact]
    public void Run_AnInvalidationDuringTheRead_ReadsAgain_NeverPublishesTheStaleCopy()
    {
        using var space = new AddressSpace();
        var mirror = new Mirror();
        IntervalSubscription s = space.Subscribe(0, 1, mirror);
        long primary = 1;
        var publishedCopies = new List<long>();

        long published = FaultLoop.Run(s, mirror.Lock, 0, _ =>
        {
            long read = Volatile.Read(ref primary);
            if (read == 1)
            {
                Waiting.Completes(Waiting.OnThread(() =>
                {
                    using (space.BeginInvalidation(new InvalidationRange(0, 1)))
                    {
                        Volatile.Write(ref primary, 2);
                    }
                }), "writer");
            }

            return read;
        }, (_, copy) => publishedCopies.Add(copy), Ct);

        Assert.Equal(2, published);
        Assert.Equal([2L], publishedCopies);
    }

    [Fact]
    public async Task RunAsync_WaitsForARunningInvalidation_ThenPublishes()
    {
        using var space = new AddressSpace();
        var mirror = new Mirror();
        IntervalSubscription s = space.Subscribe(0, 1, mirror);
        InvalidationScope open = Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0, 1))), "begin");

        Task<long> fault = FaultLoop.RunAsync(s, mirror.Lock, 5L, (v, _) => ValueTask.FromResult(v), (_, copy) => mirror.Copy = copy, Ct).AsTask();
        Waiting.AssertBlocked(fault, "a fault while its subscription is being invalidated");
        Waiting.Completes(Waiting.OnThread(open.Dispose), "end");

        Assert.Equal(5, await fault.WaitAsync(Waiting.Patience, Ct));
        Assert.Equal(5, mirror.Copy);
    }

    [Fact]
    public void Run_FromInsideACallbackOfItsOwnInvalidation_Throws()
    {
        using var space = new AddressSpace();
        var mirror = new Mirror();
        IntervalSubscription s = space.Subscribe(0, 1, mirror);
        Exception? thrown = null;
        space.Subscribe(0, 1, new RecordingInvalidator(onInvalidate: (_, range, _) =>
        {
            if (range.Event != InvalidationEvent.Release)
            {
                thrown = Record.Exception(() => FaultLoop.Run(s, mirror.Lock, () => 1L, _ => { }, Ct));
            }

            return true;
        }));

        space.BeginInvalidation(new InvalidationRange(0, 1)).Dispose();

        Assert.IsType<InvalidOperationException>(thrown);
    }

    [Fact]
    public void Run_NullArguments_Throw()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 1, new Mirror());
        Assert.Throws<ArgumentNullException>("subscription", () => FaultLoop.Run(null!, new object(), () => 1, _ => { }, Ct));
        Assert.Throws<ArgumentNullException>("mirrorLock", () => FaultLoop.Run(s, null!, () => 1, _ => { }, Ct));
        Assert.Throws<ArgumentNullException>("read", () => FaultLoop.Run<int>(s, new object(), null!, _ => { }, Ct));
    }

    // Every overload checks every argument before it reads anything.
    [Fact]
    [Trait("Found", "mutation testing")]
    public async Task EveryOverload_ChecksEveryArgument()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 1, new Mirror());
        var l = new object();
        Assert.Throws<ArgumentNullException>("publish", () => FaultLoop.Run(s, l, () => 1, null!, Ct));
        Assert.Throws<ArgumentNullException>("read", () => FaultLoop.Run<int, int>(s, l, 0, null!, (_, _) => { }, Ct));
        Assert.Throws<ArgumentNullException>("publish", () => FaultLoop.Run(s, l, 0, v => v, null!, Ct));
        Assert.Throws<ArgumentNullException>("subscription", () => FaultLoop.Run(null!, l, 0, v => v, (_, _) => { }, Ct));
        Assert.Throws<ArgumentNullException>("mirrorLock", () => FaultLoop.Run(s, null!, 0, v => v, (_, _) => { }, Ct));
        await Assert.ThrowsAsync<ArgumentNullException>("subscription", async () => await FaultLoop.RunAsync(null!, l, 0, (v, _) => ValueTask.FromResult(v), (_, _) => { }, Ct));
        await Assert.ThrowsAsync<ArgumentNullException>("mirrorLock", async () => await FaultLoop.RunAsync(s, null!, 0, (v, _) => ValueTask.FromResult(v), (_, _) => { }, Ct));
        await Assert.ThrowsAsync<ArgumentNullException>("read", async () => await FaultLoop.RunAsync<int, int>(s, l, 0, null!, (_, _) => { }, Ct));
        await Assert.ThrowsAsync<ArgumentNullException>("publish", async () => await FaultLoop.RunAsync(s, l, 0, (v, _) => ValueTask.FromResult(v), null!, Ct));
    }

    // A cancelled token stops both forms before the first read.
    [Fact]
    [Trait("Found", "mutation testing")]
    public async Task ACancelledToken_StopsTheLoop_BeforeItReads()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 1, new Mirror());
        int reads = 0;
        Assert.Throws<OperationCanceledException>(() => FaultLoop.Run(s, new object(), () => ++reads, _ => { }, new CancellationToken(canceled: true)));
        await Assert.ThrowsAsync<OperationCanceledException>(async () => await FaultLoop.RunAsync(s, new object(), 0, (_, _) => ValueTask.FromResult(++reads), (_, _) => { }, new CancellationToken(canceled: true)));
        Assert.Equal(0, reads);
    }

    // The blocking form waits for a running invalidation of its subscription with a token that
    // can be cancelled (it blocks on the awaitable read begin) and without one (the monitor wait).
    [Theory]
    [Trait("Found", "mutation testing")]
    [InlineData(true)]
    [InlineData(false)]
    public void Run_WaitsForARunningInvalidation_WithOrWithoutAToken(bool cancellable)
    {
        using var space = new AddressSpace();
        var mirror = new Mirror();
        IntervalSubscription s = space.Subscribe(0, 1, mirror);
        InvalidationScope open = Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0, 1))), "begin");
        using var cancel = new CancellationTokenSource();
        CancellationToken token = cancellable ? cancel.Token : CancellationToken.None;
        int reads = 0;

        Task<long> fault = Waiting.OnThread(() => FaultLoop.Run(s, mirror.Lock, () => { reads++; return 9L; }, copy => mirror.Copy = copy, token));
        Waiting.AssertBlocked(fault, "a fault while its subscription is being invalidated");
        Assert.Equal(0, reads);
        Waiting.Completes(Waiting.OnThread(open.Dispose), "end");

        Assert.Equal(9, Waiting.Completes(fault, "the fault"));
        Assert.Equal(1, reads);
        Assert.Equal(9, mirror.Copy);
    }
}
