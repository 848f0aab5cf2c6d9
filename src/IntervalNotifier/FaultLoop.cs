namespace IntervalNotifier;

/// <summary>
/// The mirror's fault path of docs/contract.md §3, written once, for users who keep a mirror of
/// their own (a device's page table, a shadow copy): <c>ReadBegin</c> → read the primary → take
/// the mirror's lock → <c>ReadRetry</c> → publish, starting over whenever an invalidation hit the
/// subscription in between. The publish step runs under the mirror's lock, and only when no
/// invalidation hit the subscription since the read began; so the mirror never keeps a stale copy.
/// </summary>
/// <remarks>
/// <para>
/// <c>mirrorLock</c> must be the lock the subscription's callbacks take to call
/// <see cref="IntervalSubscription.SetSequence"/> and drop the copy; do not hold it (or any lock a
/// callback takes) when you call these methods: the read begin may wait for a callback that needs it.
/// </para>
/// <para>For values derived from ranges, keyed and shared between readers, the
/// <see cref="Caching.CoherentCache{TValue}"/> does all of this and manages the subscriptions too.</para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The Run overloads differ by required parameters (the state), so no call is ambiguous.")]
public static class FaultLoop
{
    /// <summary>Reads a copy of the primary and publishes it under <paramref name="mirrorLock"/>, retrying until no invalidation hit <paramref name="subscription"/> in between.</summary>
    /// <typeparam name="TState">State passed to both steps (so that they need not capture it).</typeparam>
    /// <typeparam name="TCopy">What the read produces.</typeparam>
    /// <param name="subscription">The mirror's subscription.</param>
    /// <param name="mirrorLock">The mirror's lock: the one its callbacks take.</param>
    /// <param name="state">Passed to <paramref name="read"/> and <paramref name="publish"/>.</param>
    /// <param name="read">Reads the primary (outside every lock); may run several times.</param>
    /// <param name="publish">Publishes the copy into the mirror; runs once, under <paramref name="mirrorLock"/>.</param>
    /// <param name="cancellationToken">Cancels the waits and retries.</param>
    /// <returns>The copy that was published.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The read begin had to wait for an invalidation the calling thread holds open (it is inside a callback).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while it waited or before a retry.</exception>
    public static TCopy Run<TState, TCopy>(IntervalSubscription subscription, object mirrorLock, TState state, Func<TState, TCopy> read, Action<TState, TCopy> publish, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(mirrorLock);
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(publish);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ulong sequence = ReadBegin(subscription, cancellationToken);
            TCopy copy = read(state);
            lock (mirrorLock)
            {
                if (!subscription.ReadRetry(sequence))
                {
                    publish(state, copy);
                    return copy;
                }
            }
        }
    }

    // Without a token that can be cancelled, the blocking ReadBegin (a monitor wait) rather than
    // blocking on a task.
    private static ulong ReadBegin(IntervalSubscription subscription, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            return subscription.ReadBegin();
        }

        ValueTask<ulong> begin = subscription.ReadBeginAsync(cancellationToken);
        return begin.IsCompleted ? begin.Result : begin.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>As <see cref="Run{TState, TCopy}"/>, without state.</summary>
    /// <typeparam name="TCopy">What the read produces.</typeparam>
    /// <param name="subscription">The mirror's subscription.</param>
    /// <param name="mirrorLock">The mirror's lock: the one its callbacks take.</param>
    /// <param name="read">Reads the primary (outside every lock); may run several times.</param>
    /// <param name="publish">Publishes the copy; runs once, under <paramref name="mirrorLock"/>.</param>
    /// <param name="cancellationToken">Cancels the waits and retries.</param>
    /// <returns>The copy that was published.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The read begin had to wait for an invalidation the calling thread holds open.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static TCopy Run<TCopy>(IntervalSubscription subscription, object mirrorLock, Func<TCopy> read, Action<TCopy> publish, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(publish);
        return Run(subscription, mirrorLock, (read, publish), static s => s.read(), static (s, copy) => s.publish(copy), cancellationToken);
    }

    /// <summary>The awaitable form of <see cref="Run{TState, TCopy}"/>: the read begin's wait and the read are awaited; the publish runs under <paramref name="mirrorLock"/>.</summary>
    /// <typeparam name="TState">State passed to both steps.</typeparam>
    /// <typeparam name="TCopy">What the read produces.</typeparam>
    /// <param name="subscription">The mirror's subscription.</param>
    /// <param name="mirrorLock">The mirror's lock: the one its callbacks take.</param>
    /// <param name="state">Passed to <paramref name="read"/> and <paramref name="publish"/>.</param>
    /// <param name="read">Reads the primary (outside every lock); may run several times.</param>
    /// <param name="publish">Publishes the copy; runs once, under <paramref name="mirrorLock"/>.</param>
    /// <param name="cancellationToken">Cancels the waits and retries, and is passed to the read.</param>
    /// <returns>The copy that was published.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The read begin had to wait for an invalidation the calling flow holds open.</exception>
    public static async ValueTask<TCopy> RunAsync<TState, TCopy>(IntervalSubscription subscription, object mirrorLock, TState state, Func<TState, CancellationToken, ValueTask<TCopy>> read, Action<TState, TCopy> publish, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(mirrorLock);
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(publish);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ulong sequence = await subscription.ReadBeginAsync(cancellationToken).ConfigureAwait(false);
            TCopy copy = await read(state, cancellationToken).ConfigureAwait(false);
            lock (mirrorLock)
            {
                if (!subscription.ReadRetry(sequence))
                {
                    publish(state, copy);
                    return copy;
                }
            }
        }
    }
}
