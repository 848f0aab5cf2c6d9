namespace IntervalNotifier.Tests.DotNet;

/// <summary>docs/contract.md §8 (for .NET users): what the debugger shows.</summary>
public sealed class DebuggerDisplayTests
{
    [Fact]
    [Trait("Found", "mutation testing")]
    public void DebuggerDisplay_ShowsNameSequenceActiveSubscriptionsAndRelease()
    {
        var space = new AddressSpace(new AddressSpaceOptions { Name = "gpu0" });
        space.Subscribe(0, 10, new RecordingInvalidator());
        Assert.Equal("gpu0: Sequence = 2, Active = 0, Subscriptions = 1", space.DebuggerDisplay);
        space.Dispose();
        Assert.Equal("gpu0: Sequence = 4, Active = 0, Subscriptions = 1, released", space.DebuggerDisplay);
        Assert.Equal("Sequence = 2, Active = 0, Subscriptions = 0", new AddressSpace().DebuggerDisplay);
    }

    [Fact]
    public void Scope_SaysWhetherItIsOpen()
    {
        using var space = new AddressSpace(new AddressSpaceOptions { Name = "gpu" });
        Assert.Contains("no invalidation", default(InvalidationScope).DebuggerDisplay, StringComparison.Ordinal);
        InvalidationScope scope = space.BeginInvalidation(new InvalidationRange(0, 10));
        Assert.Contains("open in address space gpu", scope.DebuggerDisplay, StringComparison.Ordinal);
        scope.Dispose();
        Assert.Equal("ended", scope.DebuggerDisplay);
        Assert.NotNull(typeof(InvalidationScope).GetCustomAttributes(typeof(System.Diagnostics.DebuggerDisplayAttribute), false).SingleOrDefault());
    }

    [Fact]
    public void DebugView_ListsTheLiveSubscriptions_IncludingDeferredInserts()
    {
        var space = new AddressSpace();
        IntervalSubscription a = space.Subscribe(0, 10, new RecordingInvalidator());
        IntervalSubscription gone = space.Subscribe(20, 10, new RecordingInvalidator());
        gone.Unsubscribe();
        InvalidationScope other = Waiting.Completes(Waiting.OnThread(() => space.BeginAnywhere(new InvalidationRange(0, 10))), "other begin");
        IntervalSubscription deferred = space.Subscribe(5, 10, new RecordingInvalidator());
        var view = new AddressSpaceDebugView(space);
        Assert.Equal([a, deferred], view.Subscriptions);
        Assert.Equal(space.Sequence, view.Sequence);
        Assert.Equal(1, view.ActiveInvalidations);
        Waiting.Completes(Waiting.OnThread(other.Dispose), "other end");
        var proxy = (System.Diagnostics.DebuggerTypeProxyAttribute)typeof(AddressSpace).GetCustomAttributes(typeof(System.Diagnostics.DebuggerTypeProxyAttribute), false).Single();
        Assert.Contains(nameof(AddressSpaceDebugView), proxy.ProxyTypeName, StringComparison.Ordinal);
    }
}
