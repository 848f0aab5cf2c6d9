namespace IntervalNotifier;

/// <summary>
/// Where a subscription is in its life (docs/contract.md §5); guarded by the address space's lock,
/// read lock-free. The state alone says whether the subscription is in the tree, whether its
/// change is deferred, and whether an unsubscribe must wait: nothing is reconstructed from the
/// tree or the lists.
/// </summary>
internal enum SubscriptionState
{
    /// <summary>In the tree; its callbacks run. (A removal taken back leaves it on the deferred list, where applying it does nothing.)</summary>
    Subscribed,

    /// <summary>Subscribed during an odd period: its insert is deferred; no walk has seen it.</summary>
    PendingInsert,

    /// <summary>A deferred insert that the release walk called: unsubscribing it must wait like for a tree member.</summary>
    PendingInsertWalked,

    /// <summary>In the tree, its removal deferred: callbacks may still run until the last end.</summary>
    PendingRemove,

    /// <summary>A <see cref="PendingInsertWalked"/> subscription whose removal is deferred: not in the tree.</summary>
    PendingRemoveWalked,

    /// <summary>Out for good. (A dropped deferred insert stays on the deferred list until the last end, where applying it does nothing.)</summary>
    Unsubscribed,
}
