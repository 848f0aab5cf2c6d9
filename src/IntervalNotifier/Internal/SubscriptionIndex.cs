using IntervalNotifier.Collections;

namespace IntervalNotifier.Internal;

/// <summary>
/// The address space's interval index of inserted subscriptions (docs/contract.md §2): the walk
/// order (ascending start, earlier inserted first among equal starts), overlap walks that
/// allocate nothing. A subscription keeps the handle its insert returned, so no public type of
/// the library derives from, or exposes, the index's types.
/// </summary>
/// <remarks>Mutated under the address space's lock; walked without it while the bracket protocol keeps it unchanged.</remarks>
internal sealed class SubscriptionIndex
{
    private readonly IntervalTree<IntervalSubscription> _tree = new();

    /// <summary>The number of inserted subscriptions.</summary>
    public int Count => _tree.Count;

    /// <summary>Inserts a subscription, after every one with the same start.</summary>
    /// <param name="subscription">A subscription not in the index.</param>
    public void Insert(IntervalSubscription subscription) => subscription.IndexHandle = _tree.Insert(subscription.Start, subscription.Last, subscription);

    /// <summary>Removes an inserted subscription.</summary>
    /// <param name="subscription">A subscription in the index.</param>
    public void Remove(IntervalSubscription subscription)
    {
        bool removed = _tree.Remove(subscription.IndexHandle);
        System.Diagnostics.Debug.Assert(removed, "The subscription was not in the index.");
        subscription.IndexHandle = default;
    }

    /// <summary>The subscriptions overlapping <c>[start, last]</c>, in walk order.</summary>
    /// <param name="start">The first address.</param>
    /// <param name="last">The last address, inclusive.</param>
    /// <returns>An enumerator positioned before the first.</returns>
    public IntervalTree<IntervalSubscription>.OverlapEnumerator Overlapping(ulong start, ulong last) => _tree.Overlapping(start, last).GetEnumerator();

    /// <summary>Every inserted subscription, in walk order (for snapshots).</summary>
    /// <returns>A struct enumerator.</returns>
    public IntervalTree<IntervalSubscription>.Enumerator GetEnumerator() => _tree.GetEnumerator();

    /// <summary>Checks the index's own invariants.</summary>
    public void CheckInvariants() => _tree.CheckInvariants();
}
