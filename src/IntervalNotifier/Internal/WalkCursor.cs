using IntervalNotifier.Collections;

namespace IntervalNotifier.Internal;

/// <summary>
/// What a walk visits: the tree's overlap walk, and for the release invalidation (§7) also
/// the inserts that were still deferred when it began — the release is the last
/// invalidation they can get. Those are marked (<see cref="SubscriptionState.PendingInsertWalked"/>)
/// under the lock, and the part of the deferred list they are in stays unchanged until the
/// last end (see <see cref="DeferredChanges"/>), so the cursor walks it without the lock and
/// without a snapshot.
/// </summary>
internal struct WalkCursor(IntervalTree<IntervalSubscription>.OverlapEnumerator tree)
{
    private IntervalTree<IntervalSubscription>.OverlapEnumerator _tree = tree;
    private IntervalSubscription? _deferred;
    private IntervalSubscription? _deferredLast;
    private IntervalSubscription? _current;

    /// <summary>The current subscription.</summary>
    public readonly IntervalSubscription Current => _current!;

    /// <summary>The release's walk: the whole tree, then the deferred inserts, which it marks; under the lock, at the release's begin.</summary>
    /// <param name="tree">The address space's tree.</param>
    /// <param name="deferred">Its deferred changes.</param>
    /// <returns>The cursor, before the first subscription.</returns>
    public static WalkCursor ForRelease(SubscriptionIndex tree, DeferredChanges deferred)
    {
        var cursor = new WalkCursor(tree.Overlapping(0, ulong.MaxValue))
        {
            _deferred = deferred.First,
            _deferredLast = deferred.Last,
        };
        for (IntervalSubscription? s = cursor._deferred; s is not null; s = DeferredChanges.Next(s))
        {
            if (s.State == SubscriptionState.PendingInsert)
            {
                s.State = SubscriptionState.PendingInsertWalked;
            }
        }

        return cursor;
    }

    /// <summary>Advances to the next subscription to visit.</summary>
    /// <returns><see langword="false"/> at the end.</returns>
    public bool MoveNext()
    {
        if (_tree.MoveNext())
        {
            _current = _tree.Current;
            return true;
        }

        return _deferred is not null && MoveNextDeferred();
    }

    // The marked inserts keep a walked state (a queued removal of one is walked too);
    // nothing else on that part of the list can ever take one.
    private bool MoveNextDeferred()
    {
        while (_deferred is { } s)
        {
            _deferred = ReferenceEquals(s, _deferredLast) ? null : DeferredChanges.Next(s);
            if (s.State is SubscriptionState.PendingInsertWalked or SubscriptionState.PendingRemoveWalked)
            {
                _current = s;
                return true;
            }
        }

        return false;
    }
}
