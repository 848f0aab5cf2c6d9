using IntervalNotifier.Collections;

namespace IntervalNotifier.Internal;

/// <summary>
/// What a walk visits: the tree's overlap walk, and for the release invalidation (§7) also
/// the inserts that were still deferred when it began — the release is the last
/// invalidation they can get. Those are marked (<see cref="SubscriptionState.PendingInsertWalked"/>)
/// under the lock, and the part of the deferred list they are in stays unchanged until the
/// last end (see <see cref="DeferredChanges"/>), so the cursor walks it without the lock and
/// without a snapshot. The release visits them merged with the tree by ascending start, as
/// every walk orders its hits (§2): a deferred insert comes after tree members of the same
/// start (they were all subscribed before it) and after deferred inserts of the same start
/// deferred before it.
/// </summary>
/// <remarks>
/// The marked set never shrinks (a marked subscription keeps a walked state, whatever is
/// unsubscribed or taken back), so the next deferred insert in (start, list position) order is
/// found by a scan of the marked part of the list — no buffer, no allocation: teardown runs
/// with few deferred inserts, and each scan is linear in them.
/// </remarks>
internal struct WalkCursor(IntervalTree<IntervalSubscription>.OverlapEnumerator tree)
{
    private IntervalTree<IntervalSubscription>.OverlapEnumerator _tree = tree;
    private IntervalSubscription? _treeNext;
    private bool _treeStarted;

    // The marked part of the deferred list (release only), and the next of its inserts to visit
    // with its position on the list; the last one visited bounds the following scan.
    private IntervalSubscription? _deferredFirst;
    private IntervalSubscription? _deferredLast;
    private IntervalSubscription? _deferredNext;
    private int _deferredNextPosition;
    private bool _deferredScanned;
    private IntervalSubscription? _current;

    /// <summary>The current subscription.</summary>
    public readonly IntervalSubscription Current => _current!;

    /// <summary>The release's walk: the whole tree merged with the deferred inserts, which it marks; under the lock, at the release's begin.</summary>
    /// <param name="tree">The address space's tree.</param>
    /// <param name="deferred">Its deferred changes.</param>
    /// <returns>The cursor, before the first subscription.</returns>
    public static WalkCursor ForRelease(SubscriptionIndex tree, DeferredChanges deferred)
    {
        var cursor = new WalkCursor(tree.Overlapping(0, ulong.MaxValue))
        {
            _deferredFirst = deferred.First,
            _deferredLast = deferred.Last,
        };
        for (IntervalSubscription? s = cursor._deferredFirst; s is not null; s = DeferredChanges.Next(s))
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
        if (!_treeStarted)
        {
            _treeStarted = true;
            _treeNext = _tree.MoveNext() ? _tree.Current : null;
        }

        if (_deferredFirst is null)
        {
            return TakeTree(); // every walk but the release's
        }

        if (!_deferredScanned)
        {
            ScanDeferred();
        }

        if (_treeNext is not null && (_deferredNext is null || _treeNext.Start <= _deferredNext.Start))
        {
            return TakeTree();
        }

        if (_deferredNext is null)
        {
            return false;
        }

        _current = _deferredNext;
        _deferredScanned = false; // the next scan starts after this one
        return true;
    }

    private bool TakeTree()
    {
        if (_treeNext is null)
        {
            return false;
        }

        _current = _treeNext;
        _treeNext = _tree.MoveNext() ? _tree.Current : null;
        return true;
    }

    // The marked insert that follows the last one visited in (start, list position) order.
    // Marked subscriptions keep a walked state (a queued removal of one is walked too); nothing
    // else on that part of the list can ever take one.
    private void ScanDeferred()
    {
        IntervalSubscription? last = _deferredNext;
        int lastPosition = last is null ? -1 : _deferredNextPosition;
        ulong lastStart = last?.Start ?? 0;
        IntervalSubscription? best = null;
        int bestPosition = 0;
        int position = 0;
        for (IntervalSubscription? s = _deferredFirst; s is not null; s = ReferenceEquals(s, _deferredLast) ? null : DeferredChanges.Next(s), position++)
        {
            if (s.State is not (SubscriptionState.PendingInsertWalked or SubscriptionState.PendingRemoveWalked))
            {
                continue;
            }

            bool after = last is null || s.Start > lastStart || (s.Start == lastStart && position > lastPosition);
            if (after && (best is null || s.Start < best.Start))
            {
                best = s;
                bestPosition = position;
            }
        }

        _deferredNext = best;
        _deferredNextPosition = bestPosition;
        _deferredScanned = true;
    }
}
