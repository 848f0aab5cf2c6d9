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
}
