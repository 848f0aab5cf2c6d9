using System.Diagnostics;
using System.Threading.Tasks.Sources;
using IntervalNotifier.Diagnostics;

namespace IntervalNotifier.Internal;

/// <summary>
/// The part of one asynchronous begin that outlives its call (docs/contract.md §9): the finishes
/// still pending, each watched by a continuation of its own, and the
/// <see cref="IValueTaskSource{TResult}"/> of the begin's task, over
/// <see cref="ManualResetValueTaskSourceCore{TResult}"/>. The last finish to complete concludes
/// the invalidation. Pooled per address space and recycled once the task's result has been read,
/// so that an asynchronous begin allocates nothing in steady state.
/// </summary>
/// <remarks>
/// A pending count starts at <see cref="CallPhase"/> for the call phase, so that finishes
/// completing while later ones are still being called cannot conclude early: each pending
/// finish's continuation removes one, and the call phase, at its end, adds the number it watched
/// and removes its own <see cref="CallPhase"/> in one atomic addition (so watching a finish costs
/// no atomic operation of its own). Whoever takes the count to zero concludes: during the call
/// phase it stays above <see cref="CallPhase"/> minus the finishes watched, far from zero.
/// Exceptions from continuations, which run on any thread, are collected under <see cref="_gate"/>.
/// </remarks>
internal sealed class AsyncBegin : IValueTaskSource<InvalidationScope>, IListNode<AsyncBegin>
{
    private readonly AddressSpace _space;
    private readonly object _gate = new();
    private readonly List<PendingFinish> _slots = [];
    private ManualResetValueTaskSourceCore<InvalidationScope> _core;
    private ListLinks<AsyncBegin> _links;
    private int _used;
    private int _pending;

    // The call phase's share of the pending count: larger than any number of finishes one begin
    // can watch (each needs a slot object).
    private const int CallPhase = 1 << 30;

    // What the conclusion needs; written by the call phase before it releases its count.
    private Bracket? _bracket;
    private ulong _generation;
    private InvalidationEvent _event;
    private long _started;
    private ExceptionCollector _errors;
    private WalkReport _report;

    internal AsyncBegin(AddressSpace space)
    {
        _space = space;
        _core.RunContinuationsAsynchronously = true;
    }

    /// <summary>The token of the current use.</summary>
    internal short Version => _core.Version;

    static ref ListLinks<AsyncBegin> IListNode<AsyncBegin>.LinksOf(AsyncBegin node) => ref node._links;

    /// <summary>Starts a use: the call phase's count.</summary>
    internal void Start() => _pending = CallPhase;

    /// <summary>Watches a finish that has not completed: its record goes back, and its exception is collected, when it does.</summary>
    /// <remarks>
    /// Throws, watching nothing, when the task refuses the continuation (a source that is
    /// already watched, or a stale token: a device bug); the caller then treats the finish as
    /// faulted with that exception. A watched finish may complete, and its continuation remove
    /// its count, before this returns: the call phase's count keeps the begin from concluding.
    /// </remarks>
    internal void Track(FinishRecord record, IFinishRecordPool? pool, ValueTask finish)
    {
        if (_used == _slots.Count)
        {
            _slots.Add(new PendingFinish(this));
        }

        PendingFinish slot = _slots[_used];
        try
        {
            slot.Watch(record, pool, finish);
        }
        catch
        {
            slot.Clear(); // not watched: no continuation will remove a count for it
            throw;
        }

        _used++; // counted into the pending count at the end of the call phase
    }

    /// <summary>
    /// Ends the call phase: hands over what the conclusion needs and releases the call phase's
    /// count. Returns <see langword="true"/> when every finish has completed already — then the
    /// caller concludes synchronously (<see cref="TakeOutcome"/>) and the task is never handed out.
    /// </summary>
    internal bool EndCallPhase(Bracket bracket, ulong generation, InvalidationEvent @event, long started, in ExceptionCollector errors, in WalkReport report)
    {
        lock (_gate)
        {
            _bracket = bracket;
            _generation = generation;
            _event = @event;
            _started = started;
            _errors.AddAll(in errors);
            _report.Add(in report);
        }

        return Interlocked.Add(ref _pending, _used - CallPhase) == 0;
    }

    /// <summary>The begin's outcome once every finish has completed: the counts and every exception.</summary>
    internal void TakeOutcome(out Bracket bracket, out ulong generation, out InvalidationEvent @event, out long started, out ExceptionCollector errors, out WalkReport report)
    {
        lock (_gate)
        {
            bracket = _bracket!;
            generation = _generation;
            @event = _event;
            started = _started;
            errors = _errors;
            report = _report;
        }
    }

    // A pending finish has completed (on any thread): collect its outcome, return its record,
    // and conclude if it was the last.
    private void Completed(PendingFinish slot, FinishRecord record, IFinishRecordPool? pool, ValueTask finish)
    {
        Exception? failure = null;
        Exception? resetFailure = null;
        try
        {
            finish.GetAwaiter().GetResult();
        }
        catch (Exception exception)
        {
            failure = exception;
        }
        finally
        {
            // The record goes back when its own finish has completed — also when it faulted —
            // never before.
            if (pool is not null)
            {
                try
                {
                    pool.ReturnFromCore(record, callingThread: null); // a continuation: any thread
                }
                catch (Exception exception)
                {
                    resetFailure = exception;
                }
            }
        }

        if (failure is not null || resetFailure is not null)
        {
            lock (_gate)
            {
                if (failure is not null)
                {
                    _errors.Add(failure);
                    _report.Exceptions++;
                }

                if (resetFailure is not null)
                {
                    _errors.Add(resetFailure);
                }
            }
        }

        if (Interlocked.Decrement(ref _pending) == 0)
        {
            Conclude();
        }
    }

    // The last finish has completed, after the call phase: conclude and complete the task.
    private void Conclude()
    {
        TakeOutcome(out Bracket bracket, out ulong generation, out InvalidationEvent @event, out long started, out ExceptionCollector errors, out WalkReport report);
        Exception? failure;
        InvalidationScope scope = default;
        try
        {
            failure = _space.Conclude(bracket, generation, ref errors, in report, @event, started, out scope);
        }
        catch (Exception unexpected)
        {
            failure = unexpected;
        }

        if (failure is null)
        {
            _core.SetResult(scope);
        }
        else
        {
            _core.SetException(failure);
        }
    }

    /// <summary>Forgets the finished use, for the pool.</summary>
    internal void ResetForReuse()
    {
        _core.Reset();
        for (int i = 0; i < _used; i++)
        {
            _slots[i].Clear();
        }

        _used = 0;
        _bracket = null;
        _errors = default;
        _report = default;
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    public InvalidationScope GetResult(short token)
    {
        // A stale token or a begin still pending throws, and recycles nothing.
        if (_core.GetStatus(token) == ValueTaskSourceStatus.Pending)
        {
            throw new InvalidOperationException("The asynchronous begin has not completed; await it instead of reading its result.");
        }

        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _space.RecycleAsyncBegin(this);
        }
    }

    /// <summary>One pending finish: its record, its pool, its task, and a continuation made once and reused.</summary>
    private sealed class PendingFinish
    {
        private readonly AsyncBegin _owner;
        private readonly Action _continuation;
        private FinishRecord? _record;
        private IFinishRecordPool? _pool;
        private ValueTask _finish;

        public PendingFinish(AsyncBegin owner)
        {
            _owner = owner;
            _continuation = OnCompleted;
        }

        public void Watch(FinishRecord record, IFinishRecordPool? pool, ValueTask finish)
        {
            _record = record;
            _pool = pool;
            _finish = finish;

            // Runs where the finish completes, without the caller's execution context: the
            // continuation is the core's, not user code.
            finish.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_continuation);
        }

        public void Clear()
        {
            _record = null;
            _pool = null;
            _finish = default;
        }

        private void OnCompleted()
        {
            Debug.Assert(_record is not null);
            _owner.Completed(this, _record!, _pool, _finish);
        }
    }
}
