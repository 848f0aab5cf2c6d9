using System.Diagnostics;

namespace IntervalNotifier;

/// <summary>What a debugger shows of an <see cref="AddressSpace"/>: its state and its live subscriptions, read without the lock.</summary>
/// <param name="space">The address space.</param>
internal sealed class AddressSpaceDebugView(AddressSpace space)
{
    /// <summary>S.</summary>
    public ulong Sequence => space.Sequence;

    /// <summary>The open brackets.</summary>
    public int ActiveInvalidations => space.ActiveInvalidations;

    /// <summary>The live subscriptions, in walk order.</summary>
    [DebuggerBrowsable(DebuggerBrowsableState.RootHidden)]
    public IntervalSubscription[] Subscriptions => space.SubscriptionsForDebugger();
}
