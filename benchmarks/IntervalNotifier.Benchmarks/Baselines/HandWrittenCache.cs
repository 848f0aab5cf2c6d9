using System.Collections.Concurrent;
using System.Threading.Channels;

namespace IntervalNotifier.Benchmarks.Baselines;

/// <summary>
/// B8's baseline: a coherent cache written by hand from docs/guide.md ("Keep a mirror
/// coherent"), as a careful user would write it without <c>CoherentCache</c>. One subscription
/// per entry, exactly the entry's range. Its callback, under the cache's lock, records the
/// sequence and drops the entry; since <c>Unsubscribe</c> from a callback would wait for the
/// callback's own invalidation, the subscription goes to a channel that a worker drains. A miss
/// subscribes the key and runs the §3 fault path: ReadBegin (no lock) → produce → lock →
/// ReadRetry (produce again if it says so) → publish.
/// </summary>
/// <typeparam name="TValue">The cached value type.</typeparam>
/// <remarks>
/// Under the lock, membership in the dictionary is the entry's state: an entry that is there is
/// published and its subscription is live; whoever takes it out (the callback, <see cref="Remove"/>)
/// owns the unsubscribe. A production is not in the dictionary: an invalidation only marks its
/// subscription, and the fault path produces again. Two misses of one key may both produce; the
/// second to publish keeps the first one's value and unsubscribes its own subscription.
/// </remarks>
public sealed class HandWrittenCache<TValue> : IDisposable
{
    private readonly object _lock = new();
    private readonly AddressSpace _space;
    private readonly ConcurrentDictionary<(ulong Start, ulong Length), Entry> _entries = new();
    private readonly Channel<IntervalSubscription> _retired =
        Channel.CreateUnbounded<IntervalSubscription>(new UnboundedChannelOptions { SingleReader = true });

    private readonly Task _worker;

    public HandWrittenCache(AddressSpace space)
    {
        _space = space;
        _worker = Task.Run(DrainAsync);
    }

    /// <summary>The entries cached.</summary>
    public int Count => _entries.Count;

    /// <summary>The cached value of <c>[start, start + length)</c>, or one produced and cached.</summary>
    public TValue GetOrAdd<TState>(ulong start, ulong length, Func<ulong, ulong, TState, TValue> factory, TState state) =>
        _entries.TryGetValue((start, length), out Entry? entry) ? entry.Value : Miss(start, length, factory, state);

    /// <summary>The cached value, if any; never produces.</summary>
    public bool TryGetValue(ulong start, ulong length, out TValue value)
    {
        if (_entries.TryGetValue((start, length), out Entry? entry))
        {
            value = entry.Value;
            return true;
        }

        value = default!;
        return false;
    }

    /// <summary>Drops the entry of exactly that range and unsubscribes it (at once, unless invalidations are running).</summary>
    public bool Remove(ulong start, ulong length)
    {
        Entry? entry;
        lock (_lock)
        {
            if (!_entries.TryRemove((start, length), out entry))
            {
                return false;
            }
        }

        entry.Subscription.Dispose(); // not from a callback: no self-wait
        return true;
    }

    public void Dispose()
    {
        _retired.Writer.TryComplete();
        _worker.GetAwaiter().GetResult();
        List<Entry> left;
        lock (_lock)
        {
            left = [.. _entries.Values];
            _entries.Clear();
        }

        foreach (Entry entry in left)
        {
            entry.Subscription.Dispose();
        }
    }

    private TValue Miss<TState>(ulong start, ulong length, Func<ulong, ulong, TState, TValue> factory, TState state)
    {
        var entry = new Entry(this, (start, length));
        entry.Subscription = _space.Subscribe(start, length, entry);
        bool published = false;
        try
        {
            while (true)
            {
                ulong sequence = entry.Subscription.ReadBegin(); // never under _lock: it may wait for a callback that takes it
                TValue value = factory(start, length, state);
                lock (_lock)
                {
                    if (entry.Subscription.ReadRetry(sequence))
                    {
                        continue; // an invalidation hit the key while we read: read again
                    }

                    if (_entries.TryGetValue(entry.Key, out Entry? first))
                    {
                        return first.Value; // another miss of the key published first (ours is unsubscribed below)
                    }

                    entry.Value = value;
                    _entries[entry.Key] = entry;
                    published = true;
                    return value;
                }
            }
        }
        finally
        {
            if (!published)
            {
                entry.Subscription.Dispose(); // never in the dictionary: nobody else unsubscribes it
            }
        }
    }

    // The worker: unsubscribes what the callbacks dropped (waiting, if need be, for the
    // invalidations that dropped them to end — which a callback cannot do).
    private async Task DrainAsync()
    {
        await foreach (IntervalSubscription subscription in _retired.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class Entry(HandWrittenCache<TValue> cache, (ulong Start, ulong Length) key) : IIntervalInvalidator
    {
        public readonly (ulong Start, ulong Length) Key = key;
        public TValue Value = default!;
        public IntervalSubscription Subscription = null!;

        public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
        {
            lock (cache._lock)
            {
                subscription.SetSequence(currentSequence); // first: a fault of this key now retries
                if (!cache._entries.TryRemove(KeyValuePair.Create(Key, this)))
                {
                    return true; // being produced (its fault path retries), or dropped already
                }
            }

            // Unsubscribe here would wait for this very invalidation: the worker does it.
            cache._retired.Writer.TryWrite(subscription);
            return true;
        }
    }
}
