using System.Diagnostics.Metrics;
using IntervalNotifier.Diagnostics;

namespace IntervalNotifier.Tests.DotNet;

/// <summary>
/// docs/contract.md §8 (observability): a metrics listener is user code and may throw. An operation
/// either fails with no effect or succeeds; what a listener does never decides which.
/// </summary>
[Trait("Found", "design review")]
public sealed class ThrowingListenerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A listener that throws for every measurement of one address space's instruments.</summary>
    private sealed class ThrowingListener : IDisposable
    {
        private readonly MeterListener _listener = new();

        public ThrowingListener(string spaceName, params string[] instruments)
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == NotifierMetrics.MeterName && (instruments.Length == 0 || instruments.Contains(instrument.Name)))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    if (Equals(tag.Value, spaceName))
                    {
                        throw new InvalidOperationException("listener failure");
                    }
                }
            });
            _listener.Start();
        }

        public void Dispose() => _listener.Dispose();
    }

    private static AddressSpaceOptions NewOptions() => new() { Name = $"throwing-{Guid.NewGuid():N}" };

    [Fact]
    public void Subscribe_Deferred_WhenTheListenerThrows_ReturnsTheSubscription_AndItIsWalkedAfterTheEnd()
    {
        AddressSpaceOptions options = NewOptions();
        using var listener = new ThrowingListener(options.Name!, NotifierMetrics.DeferredChanges);
        using var space = new AddressSpace(options);
        space.Subscribe(0, 10, new RecordingInvalidator());
        var late = new RecordingInvalidator();
        IntervalSubscription? subscription;
        using (space.BeginInvalidation(new InvalidationRange(0, 10)))
        {
            subscription = space.Subscribe(0, 10, late); // deferred: counted, and the listener throws
        }

        Assert.True(subscription.IsSubscribed);
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();
        Assert.Equal(1, late.Count);
        subscription.Unsubscribe();
        Assert.False(subscription.IsSubscribed);
    }

    [Fact]
    public void Unsubscribe_ThatWaited_WhenTheListenerThrows_Succeeds()
    {
        AddressSpaceOptions options = NewOptions();
        using var listener = new ThrowingListener(options.Name!, NotifierMetrics.DeferredChanges, NotifierMetrics.Waits);
        using var space = new AddressSpace(options);
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope scope = space.BeginInvalidation(new InvalidationRange(0, 10));
        Task unsubscribe = Waiting.OnThread(s.Unsubscribe);
        Waiting.AssertBlocked(unsubscribe, "Unsubscribe");
        scope.Dispose();
        Waiting.Completes(unsubscribe, "Unsubscribe"); // rethrows what it threw
        Assert.False(s.IsSubscribed);
        Assert.Equal(0, space.SubscriptionCount);
    }

    [Fact]
    public async Task UnsubscribeAsync_WhenTheListenerThrows_ReturnsTheWait_AndCancellingItStillRevertsTheRemoval()
    {
        AddressSpaceOptions options = NewOptions();
        using var listener = new ThrowingListener(options.Name!);
        using var space = new AddressSpace(options);
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope scope = await space.BeginInvalidationAsync(new InvalidationRange(0, 10)); // held across await: an asynchronous bracket
        using var cts = new CancellationTokenSource();
        Task unsubscribe = await Waiting.OnThread(() => s.UnsubscribeAsync(cts.Token).AsTask());
        Assert.False(unsubscribe.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => unsubscribe.WaitAsync(Waiting.Patience, Ct));
        Assert.True(s.IsSubscribed); // a cancelled unsubscribe has no effect
        Assert.Equal(0, space.AsyncWaiterCount);
        scope.Dispose();
        Assert.True(s.IsSubscribed);
    }

    [Fact]
    public async Task ReadBeginAsync_WhenTheListenerThrows_WaitsAndCompletesAtTheLastEnd()
    {
        AddressSpaceOptions options = NewOptions();
        using var listener = new ThrowingListener(options.Name!, NotifierMetrics.Waits);
        using var space = new AddressSpace(options);
        IntervalSubscription s = space.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope scope = await space.BeginInvalidationAsync(new InvalidationRange(0, 10)); // held across await: an asynchronous bracket
        Task<ulong> read = await Waiting.OnThread(() => s.ReadBeginAsync(Ct).AsTask());
        Assert.False(read.IsCompleted);
        scope.Dispose();
        Assert.Equal(s.Sequence, await read.WaitAsync(Waiting.Patience, Ct));
        Assert.Equal(0, space.AsyncWaiterCount);
    }

    [Fact]
    public void BeginInvalidation_WhenTheListenerThrows_Succeeds_AndEveryRecordIsBack()
    {
        AddressSpaceOptions options = NewOptions();
        using var listener = new ThrowingListener(options.Name!);
        using var space = new AddressSpace(options);
        var pool = new FinishRecordPool<DeviceRecord>(4);
        var device = new TwoPassDevice("a", pool);
        IntervalSubscription s = space.Subscribe(0, 10, device);
        InvalidationScope scope = space.BeginInvalidation(new InvalidationRange(0, 10));
        Assert.Equal(1, space.ActiveInvalidations);
        Assert.Equal(1, device.Finishes);
        Assert.Equal(0, pool.Rented);
        scope.Dispose();
        Assert.Equal(0UL, space.Sequence & 1);
        Assert.Equal(s.Sequence, s.ReadBegin()); // not stranded
    }
}
