using System.Threading.Tasks.Sources;

namespace IntervalNotifier.Internal;

/// <summary>
/// One asynchronous wait for the end of the running invalidations (<c>ReadBeginAsync</c>,
/// <c>UnsubscribeAsync</c>): a pooled <see cref="IValueTaskSource"/> over
/// <see cref="ManualResetValueTaskSourceCore{TResult}"/>, as <c>System.Threading.Channels</c>'
/// <c>AsyncOperation</c>. Recycled by its <see cref="WaiterQueue"/> once its result has been read,
/// so a wait allocates nothing in steady state.
/// </summary>
/// <remarks>
/// <para>
/// Life: rented and queued under the lock (its cancellation registered there too); completed
/// by the last end (woken) or by its token (cancelled), both outside the lock; its result read
/// once through the <see cref="ValueTask"/>; then its registration is disposed — which waits for
/// a cancellation callback that is running — and it goes back to the queue's pool. Every call
/// checks the token (the core's version), so a stale <see cref="ValueTask"/> of a recycled waiter
/// throws instead of reading someone else's wait.
/// </para>
/// <para>Continuations always run asynchronously: completing a waiter never runs user code inline.</para>
/// </remarks>
internal sealed class AsyncWaiter : IValueTaskSource, IValueTaskSource<ulong>, IListNode<AsyncWaiter>
{
    private readonly WaiterQueue _queue;
    private ManualResetValueTaskSourceCore<ulong> _core;
    private CancellationTokenRegistration _registration;
    private ListLinks<AsyncWaiter> _links;

    internal AsyncWaiter(WaiterQueue queue)
    {
        _queue = queue;
        _core.RunContinuationsAsynchronously = true;
    }

    /// <summary>The subscription whose queued removal a cancellation takes back; <see langword="null"/> for a read.</summary>
    internal IntervalSubscription? Unsubscribing { get; private set; }

    /// <summary>The result the wait completes with: the sequence a <c>ReadBeginAsync</c> returns.</summary>
    internal ulong Result { get; private set; }

    /// <summary>What waits, for the metrics.</summary>
    internal string What { get; private set; } = "";

    /// <summary>When the wait began, for the duration histogram; 0 when nobody listened.</summary>
    internal long StartedAt { get; private set; }

    /// <summary>The token of the current use.</summary>
    internal short Version => _core.Version;

    static ref ListLinks<AsyncWaiter> IListNode<AsyncWaiter>.LinksOf(AsyncWaiter node) => ref node._links;

    /// <summary>Prepares a rented waiter for one wait; under the lock, before it is queued.</summary>
    internal void Prepare(IntervalSubscription? unsubscribing, ulong result, string what, long startedAt)
    {
        Unsubscribing = unsubscribing;
        Result = result;
        What = what;
        StartedAt = startedAt;
    }

    /// <summary>Registers the cancellation of the wait; under the lock, after it is queued. The callback may run at once.</summary>
    internal void RegisterCancellation(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.UnsafeRegister(
                static (state, token) => ((AsyncWaiter)state!)._queue.OnCancellation((AsyncWaiter)state!, token), this);
        }
    }

    /// <summary>Completes the wait normally; outside the lock.</summary>
    internal void SetWoken() => _core.SetResult(Result);

    /// <summary>Completes the wait as cancelled; outside the lock.</summary>
    internal void SetCanceled(CancellationToken cancellationToken) => _core.SetException(new OperationCanceledException(cancellationToken));

    /// <summary>Forgets the finished use: the next use gets a new token.</summary>
    internal void ResetForReuse()
    {
        _core.Reset();
        _registration = default;
        Unsubscribing = null;
        Result = 0;
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    void IValueTaskSource.GetResult(short token) => ((IValueTaskSource<ulong>)this).GetResult(token);

    ulong IValueTaskSource<ulong>.GetResult(short token)
    {
        // A stale token or a wait still pending throws, and recycles nothing.
        if (_core.GetStatus(token) == ValueTaskSourceStatus.Pending)
        {
            throw new InvalidOperationException("The wait has not completed; await it instead of reading its result.");
        }

        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            // Dispose waits for a cancellation callback that is running, so that no callback
            // can touch this waiter once it is reused.
            _registration.Dispose();
            _queue.Recycle(this);
        }
    }
}
