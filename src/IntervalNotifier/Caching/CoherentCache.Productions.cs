using System.Diagnostics;

namespace IntervalNotifier.Caching;

// Misses: the §3 fault path done once, for every entry. A production is registered under the
// cache's lock in every region its key spans, so that from then on each invalidation that
// overlaps the key marks it (the regions' callbacks take the same lock). An invalidation that
// overlapped the key before that and is still running (its odd period has not ended: the
// primary is changing) is found in the regions' records, and the production waits for the
// period to end before it reads the primary — as ReadBegin would, but only for invalidations
// of its own key. At publish, again under the lock, a marked production is produced again.
public sealed partial class CoherentCache<TValue>
{
    /// <summary>What a lookup found under the lock.</summary>
    private enum Lookup
    {
        /// <summary>The entry is cached.</summary>
        Hit,

        /// <summary>Another lookup produces the key: wait for it.</summary>
        Join,

        /// <summary>This lookup produces the key (its production is registered).</summary>
        Produce,
    }

    /// <summary>What a publish did.</summary>
    private enum Publish
    {
        /// <summary>Cached and handed to the waiters.</summary>
        Published,

        /// <summary>An overlapping invalidation began while it was produced: produce again.</summary>
        Retry,
    }

    private TValue Miss<TState>(CacheKey key, Func<ulong, ulong, TState, TValue> factory, TState state, CancellationToken cancellationToken)
    {
        _metrics.Miss();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Lookup lookup;
            CacheEntry<TValue>? entry;
            Production<TValue> production;
            Task? joined;
            CacheRegion<TValue>? waitFor;
            lock (_sync)
            {
                lookup = EnterLocked(key, out entry, out production, out joined, out waitFor);
            }

            if (lookup == Lookup.Hit)
            {
                return entry!.Value;
            }

            if (lookup == Lookup.Join)
            {
                BeforeJoin();
                joined!.Wait(cancellationToken);
                if (TakeOutcome(production, out TValue value))
                {
                    return value;
                }

                continue; // its producer was cancelled: start over
            }

            bool concluded = false;
            bool first = true;
            try
            {
                while (true)
                {
                    if (!first)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        waitFor = RunningInvalidationToWaitFor(production);
                    }

                    first = false;
                    if (waitFor is { } region)
                    {
                        _metrics.InvalidationWait();
                        WaitForPeriodEnd(region.Subscription, cancellationToken);
                        continue;
                    }

                    TValue value;
                    try
                    {
                        value = factory(key.Start, key.Length, state);
                    }
                    catch (Exception exception) when (!IsCancellation(exception, cancellationToken))
                    {
                        concluded = true;
                        Conclude(production, ProductionOutcome.Faulted, default, exception);
                        throw;
                    }

                    if (TryPublish(production, value) == Publish.Published)
                    {
                        concluded = true;
                        return value;
                    }

                    _metrics.Retry();
                    DiscardUnseen(value);
                }
            }
            finally
            {
                if (!concluded)
                {
                    Conclude(production, ProductionOutcome.Abandoned); // cancelled, or a wait refused: a waiter takes over
                }
            }
        }
    }

    private async ValueTask<TValue> MissAsync(CacheKey key, Func<ulong, ulong, CancellationToken, ValueTask<TValue>> factory, CancellationToken cancellationToken)
    {
        _metrics.Miss();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Lookup lookup;
            CacheEntry<TValue>? entry;
            Production<TValue> production;
            Task? joined;
            CacheRegion<TValue>? waitFor;
            lock (_sync)
            {
                lookup = EnterLocked(key, out entry, out production, out joined, out waitFor);
            }

            if (lookup == Lookup.Hit)
            {
                return entry!.Value;
            }

            if (lookup == Lookup.Join)
            {
                BeforeJoin();
                await joined!.WaitAsync(cancellationToken).ConfigureAwait(false);
                if (TakeOutcome(production, out TValue value))
                {
                    return value;
                }

                continue;
            }

            bool concluded = false;
            bool first = true;
            try
            {
                while (true)
                {
                    if (!first)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        waitFor = RunningInvalidationToWaitFor(production);
                    }

                    first = false;
                    if (waitFor is { } region)
                    {
                        _metrics.InvalidationWait();
                        await region.Subscription.ReadBeginAsync(cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    TValue value;
                    try
                    {
                        value = await factory(key.Start, key.Length, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception exception) when (!IsCancellation(exception, cancellationToken))
                    {
                        concluded = true;
                        Conclude(production, ProductionOutcome.Faulted, default, exception);
                        throw;
                    }

                    if (TryPublish(production, value) == Publish.Published)
                    {
                        concluded = true;
                        return value;
                    }

                    _metrics.Retry();
                    DiscardUnseen(value);
                }
            }
            finally
            {
                if (!concluded)
                {
                    Conclude(production, ProductionOutcome.Abandoned);
                }
            }
        }
    }

    // Under the lock: the entry, another lookup's production of the key, or a new production of
    // ours, registered in the cache and in every region the key spans (subscribed if need be).
    private Lookup EnterLocked(CacheKey key, out CacheEntry<TValue>? entry, out Production<TValue> production, out Task? joined, out CacheRegion<TValue>? waitFor)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        ObjectDisposedException.ThrowIf(_disposed, this);
        joined = null;
        waitFor = null;
        if (_entries.TryGetValue(key, out entry))
        {
            entry.Touch();
            production = null!;
            return Lookup.Hit;
        }

        if (_productions.TryGetValue(key, out Production<TValue>? running))
        {
            production = running;
            joined = running.Join();
            return Lookup.Join;
        }

        ThrowIfTooManyRegions(key, "length");
        production = new Production<TValue>(key);
        _productions.Add(key, production);
        try
        {
            for (ulong index = key.Start / _granularity; ; index++)
            {
                RegionLocked(index).Productions.Add(production);
                if (index == key.Last / _granularity)
                {
                    break;
                }
            }
        }
        catch
        {
            UnregisterLocked(production); // a subscribe failed (the address space is released): undo
            throw;
        }

        waitFor = RunningInvalidationToWaitForLocked(production); // the first attempt's look, in the same lock pass
        return Lookup.Produce;
    }

    // The region of the production's key that an invalidation of the running odd period has hit
    // inside the key (or that was subscribed during that period), if any; otherwise the
    // production may read the primary now, and its mark is cleared.
    private CacheRegion<TValue>? RunningInvalidationToWaitFor(Production<TValue> production)
    {
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return RunningInvalidationToWaitForLocked(production);
        }
    }

    private CacheRegion<TValue>? RunningInvalidationToWaitForLocked(Production<TValue> production)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        ulong sequence = _space.Sequence;
        if ((sequence & 1) != 0)
        {
            for (ulong index = production.Key.Start / _granularity; ; index++)
            {
                CacheRegion<TValue> region = _regions[index];
                if (region.BornInPeriod == sequence || region.HitInPeriod(production.Key, sequence))
                {
                    return region;
                }

                if (index == production.Key.Last / _granularity)
                {
                    break;
                }
            }
        }

        production.Invalidated = false;
        return null;
    }

    // Under the lock, as the §3 fault path's ReadRetry: a production that an invalidation marked
    // since it started is produced again; otherwise it is cached and handed to the waiters.
    private Publish TryPublish(Production<TValue> production, TValue value)
    {
        List<CacheEntry<TValue>>? evicted = null;
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (production.Invalidated && !PlantedBugSkipsRetryCheck)
            {
                return Publish.Retry;
            }

            AddEntryLocked(new CacheEntry<TValue>(production.Key, value)); // first: its regions never fall idle
            UnregisterLocked(production);
            if (_count > _sizeLimit)
            {
                evicted = EvictForCapacityLocked();
            }
        }

        // After the lock: waiters' continuations run asynchronously anyway; handlers are user code.
        production.Complete(ProductionOutcome.Produced, value);
        if (evicted is not null)
        {
            Report(evicted, EvictionReason.Capacity);
        }

        return Publish.Published;
    }

    private void Conclude(Production<TValue> production, ProductionOutcome outcome, TValue? value = default, Exception? error = null)
    {
        lock (_sync)
        {
            UnregisterLocked(production);
        }

        production.Complete(outcome, value, error);
    }

    // Takes the production off the cache and its regions (regions left with nothing fall idle).
    private void UnregisterLocked(Production<TValue> production)
    {
        Debug.Assert(Monitor.IsEntered(_sync));
        if (!_productions.Remove(production.Key))
        {
            return; // concluded already, or the cache was disposed
        }

        for (ulong index = production.Key.Start / _granularity; ; index++)
        {
            if (_regions.TryGetValue(index, out CacheRegion<TValue>? region) && region.Productions.Remove(production) && region.IsIdle)
            {
                MarkIdleLocked(region);
            }

            if (index == production.Key.Last / _granularity)
            {
                break;
            }
        }
    }

    // Waiting for another lookup's production from inside a bracket of the same address space
    // could wait for itself (that production may wait for the bracket's odd period to end).
    private void BeforeJoin()
    {
        if (_space.CallerHoldsBracket())
        {
            throw new InvalidOperationException("The lookup would wait for another lookup's production of the same key, but the calling thread holds an invalidation of this address space open (it is inside a callback, or between a begin and its scope's Dispose): that production may wait for it. Look up outside invalidations.");
        }

        _metrics.ProductionWait();
    }

    // The region's ReadBegin waits until the running odd period ends; it throws at once for a
    // self-wait. Without a token that can be cancelled, the blocking form (a monitor wait) rather
    // than blocking on a task.
    private static void WaitForPeriodEnd(IntervalSubscription subscription, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            subscription.ReadBegin();
            return;
        }

        ValueTask<ulong> wait = subscription.ReadBeginAsync(cancellationToken);
        if (!wait.IsCompleted)
        {
            wait.AsTask().GetAwaiter().GetResult();
        }
    }

    private static bool TakeOutcome(Production<TValue> production, out TValue value)
    {
        switch (production.Outcome)
        {
            case ProductionOutcome.Produced:
                value = production.Value!;
                return true;
            case ProductionOutcome.Faulted:
                production.Error!.Throw();
                break;
        }

        value = default!;
        return false;
    }

    private static bool IsCancellation(Exception exception, CancellationToken cancellationToken) =>
        exception is OperationCanceledException && cancellationToken.IsCancellationRequested;

    // A value produced but thrown away (an invalidation overlapped its production) was never
    // seen by anyone: dispose it if the options say so.
    private void DiscardUnseen(TValue value)
    {
        if (_disposeEvicted && value is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }
}
