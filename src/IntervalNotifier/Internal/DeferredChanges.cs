using System.Diagnostics;

namespace IntervalNotifier.Internal;

/// <summary>
/// The tree changes deferred during one odd period (docs/contract.md §5): subscriptions whose insert
/// or removal the last end applies, in the order they were deferred.
/// </summary>
/// <remarks>
/// <para>
/// Append-only while the period lasts: a change that is taken back (a cancelled unsubscribe, a
/// dropped insert) changes the subscription's state and leaves it on the list, and applying it
/// then does nothing. So a subscription is on the list at most once, and the part of the list
/// that existed when the release walk began stays unchanged until the last end — which lets
/// that walk visit the deferred inserts without the lock and without a snapshot.
/// </para>
/// <para>Guarded by the address space's lock: every member asserts that the caller holds it.</para>
/// </remarks>
internal sealed class DeferredChanges(object sync)
{
    private IntrusiveList<IntervalSubscription> _list;

    /// <summary>Whether nothing is deferred.</summary>
    public bool IsEmpty
    {
        get
        {
            Debug.Assert(Monitor.IsEntered(sync));
            return _list.IsEmpty;
        }
    }

    /// <summary>The first deferred subscription, or <see langword="null"/>.</summary>
    public IntervalSubscription? First
    {
        get
        {
            Debug.Assert(Monitor.IsEntered(sync));
            return _list.First;
        }
    }

    /// <summary>The first deferred subscription, read without the lock (for debugger views only).</summary>
    public IntervalSubscription? FirstForDebugger => _list.First;

    /// <summary>The last deferred subscription, or <see langword="null"/>.</summary>
    public IntervalSubscription? Last
    {
        get
        {
            Debug.Assert(Monitor.IsEntered(sync));
            return _list.Last;
        }
    }

    /// <summary>
    /// The subscription deferred after <paramref name="subscription"/>. Also readable without
    /// the lock for subscriptions that were on the list before the caller last held it, except
    /// the one that was last then (appending writes only the last one's link).
    /// </summary>
    /// <param name="subscription">A deferred subscription.</param>
    /// <returns>The next one, or <see langword="null"/>.</returns>
    public static IntervalSubscription? Next(IntervalSubscription subscription) => IntrusiveList<IntervalSubscription>.NextOf(subscription);

    /// <summary>Defers a change of <paramref name="subscription"/>, unless it is deferred already.</summary>
    /// <param name="subscription">The subscription.</param>
    public void Add(IntervalSubscription subscription)
    {
        Debug.Assert(Monitor.IsEntered(sync));
        if (!_list.Contains(subscription))
        {
            _list.AddLast(subscription);
        }
    }

    /// <summary>Takes the oldest deferred subscription off the list, for the last end to apply.</summary>
    /// <returns>The subscription, or <see langword="null"/> when none is left.</returns>
    public IntervalSubscription? TakeFirst()
    {
        Debug.Assert(Monitor.IsEntered(sync));
        return _list.TakeFirst();
    }

    /// <summary>What is wrong with the list, or <see langword="null"/>.</summary>
    /// <returns>A description of the first broken invariant.</returns>
    public string? Check()
    {
        Debug.Assert(Monitor.IsEntered(sync));
        return _list.Check();
    }
}
