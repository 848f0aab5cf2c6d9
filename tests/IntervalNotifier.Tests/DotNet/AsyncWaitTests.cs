namespace IntervalNotifier.Tests.DotNet;

/// <summary>docs/contract.md §8: awaitable ReadBegin and Unsubscribe, with cancellation.</summary>
public sealed class AsyncWaitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ReadBeginAsync_WhenNotInvalidated_CompletesSynchronously()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        ValueTask<ulong> read = s.ReadBeginAsync(Ct);
        Assert.True(read.IsCompletedSuccessfully);
        Assert.Equal(1UL, await read);
    }

    [Fact]
    public async Task ReadBeginAsync_WhileInvalidated_CompletesAtTheLastEnd()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope scope = await space.BeginInvalidationAsync(new InvalidationRange(0, 10)); // held across await: an asynchronous bracket
        Task<ulong> read = await Waiting.OnThread(() => s.ReadBeginAsync(Ct).AsTask()); // registered from a thread without a bracket
        Waiting.AssertBlocked(read, "ReadBeginAsync");
        Assert.Equal(1, space.AsyncWaiterCount);
        scope.Dispose();
        Assert.Equal(3UL, await read.WaitAsync(Waiting.Patience, Ct));
        Assert.Equal(0, space.AsyncWaiterCount);
    }

    [Fact]
    public async Task ReadBeginAsync_Cancelled_ThrowsAndLeavesNothingRegistered()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        using InvalidationScope scope = await space.BeginInvalidationAsync(new InvalidationRange(0, 10)); // held across await: an asynchronous bracket
        using var cts = new CancellationTokenSource();
        Task<ulong> read = await Waiting.OnThread(() => s.ReadBeginAsync(cts.Token).AsTask());
        Assert.Equal(1, space.AsyncWaiterCount);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(Waiting.Patience, Ct));
        Assert.Equal(0, space.AsyncWaiterCount);
    }

    [Fact]
    public async Task ReadBeginAsync_AlreadyCancelled_WhenItWouldWait_IsCancelled()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        using InvalidationScope scope = await space.BeginInvalidationAsync(new InvalidationRange(0, 10)); // held across await: an asynchronous bracket
        Task<ulong> read = await Waiting.OnThread(() => s.ReadBeginAsync(new CancellationToken(canceled: true)).AsTask());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        Assert.Equal(0, space.AsyncWaiterCount);
    }

    [Fact]
    public void ReadBeginAsync_ByTheInvalidatingThread_WhenItWouldWait_ThrowsSynchronously()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        using InvalidationScope scope = space.BeginInvalidation(new InvalidationRange(0, 10));
        Assert.Throws<InvalidOperationException>(() => { _ = s.ReadBeginAsync(Ct).AsTask(); });
        Assert.Equal(0, space.AsyncWaiterCount);
    }

    [Fact]
    public async Task UnsubscribeAsync_WhenNoWaitIsNeeded_CompletesSynchronously()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        ValueTask done = s.UnsubscribeAsync(Ct);
        Assert.True(done.IsCompletedSuccessfully);
        await done;
        Assert.False(s.IsSubscribed);
    }

    [Fact]
    public async Task UnsubscribeAsync_WhileInvalidated_CompletesAtTheLastEnd_ThenNoCallbackRuns()
    {
        using var space = new AddressSpace();
        var inv = new RecordingInvalidator();
        IntervalSubscription s = space.Subscribe(0, 10, inv);
        InvalidationScope scope = await space.BeginInvalidationAsync(new InvalidationRange(0, 10)); // held across await: an asynchronous bracket
        Task unsubscribe = await Waiting.OnThread(() => s.UnsubscribeAsync(Ct).AsTask());
        Waiting.AssertBlocked(unsubscribe, "UnsubscribeAsync");
        Assert.False(s.IsSubscribed);
        scope.Dispose();
        await unsubscribe.WaitAsync(Waiting.Patience, Ct);
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(1, inv.Count);
    }

    [Fact]
    public async Task UnsubscribeAsync_Cancelled_HasNoEffect_AndLeavesNothingRegistered()
    {
        using var space = new AddressSpace();
        var inv = new RecordingInvalidator();
        IntervalSubscription s = space.Subscribe(0, 10, inv);
        InvalidationScope scope = await space.BeginInvalidationAsync(new InvalidationRange(0, 10)); // held across await: an asynchronous bracket
        using var cts = new CancellationTokenSource();
        Task unsubscribe = await Waiting.OnThread(() => s.UnsubscribeAsync(cts.Token).AsTask());
        Assert.Equal(0, space.SubscriptionCount);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => unsubscribe.WaitAsync(Waiting.Patience, Ct));
        Assert.Equal(0, space.AsyncWaiterCount);
        Assert.True(s.IsSubscribed);
        Assert.Equal(1, space.SubscriptionCount);
        scope.Dispose();

        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(2, inv.Count); // still subscribed
        await s.UnsubscribeAsync(Ct);
        Assert.False(s.IsSubscribed);
    }

    [Fact]
    public async Task UnsubscribeAsync_AlreadyCancelled_WhenItWouldWait_ChangesNothing()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        using (Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0, 10))), "begin"))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => s.UnsubscribeAsync(new CancellationToken(canceled: true)).AsTask());
            Assert.True(s.IsSubscribed);
        }
    }

    [Fact]
    public async Task ManyAsyncWaiters_AreAllReleasedByOneEnd()
    {
        using var space = new AddressSpace();
        IntervalSubscription[] subs = [.. Enumerable.Range(0, 20).Select(i => space.Subscribe((ulong)i * 10, 10, new RecordingInvalidator()))];
        InvalidationScope scope = space.BeginAnywhere(new InvalidationRange(0, 200)); // ended after an await, maybe on another thread
        Task<ulong>[] reads = await Waiting.OnThread(() => subs.Select(s => s.ReadBeginAsync(Ct).AsTask()).ToArray());
        Assert.Equal(20, space.AsyncWaiterCount);
        Assert.All(reads, r => Assert.False(r.IsCompleted));
        scope.Dispose();
        ulong[] seqs = await Task.WhenAll(reads).WaitAsync(Waiting.Patience, Ct);
        Assert.All(seqs, s => Assert.Equal(3UL, s));
    }

    [Fact]
    [Trait("Found", "review")]
    public void UnsubscribeAsync_ByAThreadHoldingAnOpenBracket_WhenItWouldWait_ThrowsSynchronously()
    {
        using var space = new AddressSpace();
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        using (space.BeginInvalidation(new InvalidationRange(0, 10)))
        {
            Assert.Throws<InvalidOperationException>(() => { _ = s.UnsubscribeAsync(TestContext.Current.CancellationToken).AsTask(); });
            Assert.True(s.IsSubscribed);
        }
    }
}
