using IntervalNotifier.Collections;

namespace IntervalNotifier.Internal;

/// <summary>
/// The address space's interval index of inserted subscriptions (docs/contract.md §2): the walk
/// order (ascending start, earlier inserted first among equal starts), overlap walks that
/// allocate nothing. Subscriptions reach it through an entry of their own, so that no public
/// type of the library derives from the index's node type.
/// </summary>
/// <remarks>Mutated under the address space's lock; walked without it while the bracket protocol keeps it unchanged.</remarks>
internal sealed class SubscriptionIndex
{
    private readonly IntervalTree<Entry> _tree = new();

    /// <summary>The number of inserted subscriptions.</summary>
    public int Count => _tree.Count;

    /// <summary>Inserts a subscription, after every one with the same start.</summary>
    /// <param name="subscription">A subscription not in the index.</param>
    public void Insert(IntervalSubscription subscription) => _tree.Insert(subscription.IndexEntry);

    /// <summary>Removes an inserted subscription.</summary>
    /// <param name="subscription">A subscription in the index.</param>
    public void Remove(IntervalSubscription subscription) => _tree.Remove(subscription.IndexEntry);

    /// <summary>The subscriptions overlapping <c>[start, last]</c>, in walk order.</summary>
    /// <param name="start">The first address.</param>
    /// <param name="last">The last address, inclusive.</param>
    /// <returns>An enumerator positioned before the first.</returns>
    public Walk Overlapping(ulong start, ulong last) => new(_tree.Overlapping(start, last).GetEnumerator());

    /// <summary>Every inserted subscription, in walk order; allocates (for snapshots).</summary>
    /// <returns>The subscriptions.</returns>
    public IEnumerable<IntervalSubscription> InOrder() => _tree.Select(e => e.Subscription);

    /// <summary>Checks the index's own invariants.</summary>
    public void CheckInvariants() => _tree.CheckInvariants();

    /// <summary>An overlap walk; valid while the index is not mutated.</summary>
    public struct Walk(IntervalTree<Entry>.OverlapEnumerator inner)
    {
        private IntervalTree<Entry>.OverlapEnumerator _inner = inner;

        /// <summary>The current subscription.</summary>
        public readonly IntervalSubscription Current => _inner.Current.Subscription;

        /// <summary>Advances to the next overlapping subscription.</summary>
        /// <returns><see langword="false"/> at the end.</returns>
        public bool MoveNext() => _inner.MoveNext();
    }

    /// <summary>A subscription's node in the index.</summary>
    internal sealed class Entry(IntervalSubscription subscription) : IntervalTreeNode<Entry>(subscription.Start, subscription.Last)
    {
        /// <summary>The subscription.</summary>
        public readonly IntervalSubscription Subscription = subscription;
    }
}
