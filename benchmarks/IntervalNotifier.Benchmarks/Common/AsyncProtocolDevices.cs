using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace IntervalNotifier.Benchmarks.Common;

/// <summary>
/// A pooled record that is its own finish's <see cref="IValueTaskSource"/>: the finish is pending
/// until a <see cref="FinishCompleter"/> completes it, and the completion runs the core's
/// continuation inline (<c>RunContinuationsAsynchronously = false</c>), on the completer's
/// thread, as a device's completion interrupt would.
/// </summary>
internal sealed class PendingFinishRecord : FinishRecord, IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core;

    public PendingFinishRecord()
    {
        _core.RunContinuationsAsynchronously = false;
    }

    /// <summary>The finish's task for the current use.</summary>
    public ValueTask Completion => new(this, _core.Version);

    /// <summary>Completes the current use; its continuation runs here, inline.</summary>
    public void Complete() => _core.SetResult(true);

    public override bool TryReset()
    {
        _core.Reset();
        return true;
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);
}

/// <summary>
/// An asynchronous two-pass callback that does only the protocol: set the sequence, rent a
/// record (or, without a pool, take its own: one suffices, since each invalidation has finished
/// before the next begins), hand it to the completer; its finish is the record's task, pending
/// until the completer's thread completes it.
/// </summary>
internal sealed class PendingAsyncInvalidator(FinishRecordPool<PendingFinishRecord>? pool, FinishCompleter completer) : IAsyncTwoPassIntervalInvalidator
{
    private readonly PendingFinishRecord _own = new();

    public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
    {
        subscription.SetSequence(currentSequence);
        return true;
    }

    public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
    {
        subscription.SetSequence(currentSequence);
        if (pool is null)
        {
            _own.TryReset();
            completer.Add(_own);
            finish = _own;
            return true;
        }

        if (pool.TryRent(out PendingFinishRecord? record))
        {
            completer.Add(record);
            finish = record;
            return true;
        }

        finish = null;
        return true;
    }

    public void InvalidateFinish(FinishRecord finish) => throw new InvalidOperationException("only the asynchronous begin is measured");

    public ValueTask InvalidateFinishAsync(FinishRecord finish) => ((PendingFinishRecord)finish).Completion;
}

/// <summary>
/// A thread that completes one invalidation's pending finishes, in start order, when told to:
/// the device side of an asynchronous begin, without the simulated clock of B1 (no deadlines, no
/// timestamps), so that what a finish costs on the completing thread is the library's
/// continuation and its record's return. It spins only while <see cref="Awake"/> is set.
/// </summary>
internal sealed class FinishCompleter : IDisposable
{
    private readonly PendingFinishRecord[] _batch;
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly Thread _thread;
    // Each on a line of its own, so that neither thread's writes evict what the other spins on
    // or writes (the harness's own traffic between the threads, not the library's, would
    // otherwise be part of every finish).
    private PaddedCounter _count; // the batch's size: written by the invalidating thread per record
    private PaddedCounter _go;    // written by the invalidating thread, spun on by the completer
    private PaddedCounter _done;  // written by the completer, spun on by the invalidating thread
    private volatile bool _awake;
    private volatile bool _stopping;

    public FinishCompleter(int capacity)
    {
        _batch = new PendingFinishRecord[capacity];
        _thread = new Thread(Run) { IsBackground = true, Name = "finish completer" };
        _thread.Start();
    }

    /// <summary>Whether the thread spins for work (true) or sleeps (false).</summary>
    public bool Awake
    {
        get => _awake;
        set
        {
            _awake = value;
            if (value)
            {
                _wake.Set();
            }
            else
            {
                _wake.Reset();
            }
        }
    }

    /// <summary>The invalidating thread: a record to complete once released.</summary>
    public void Add(PendingFinishRecord record) => _batch[_count.Value++] = record;

    /// <summary>
    /// The invalidating thread, after the begin has returned: completes the records added since
    /// the last release, and returns once the completer has completed them (the last completion
    /// concludes the begin). Waits on a line of its own, not on the begin's task, so that the wait
    /// does not pull the begin's state away from the completing thread at every finish.
    /// </summary>
    public void ReleaseAndWait()
    {
        long go = _go.Value + 1;
        Volatile.Write(ref _go.Value, go);
        while (Volatile.Read(ref _done.Value) != go)
        {
            Thread.SpinWait(1);
        }
    }

    /// <summary>The invalidating thread, after the begin has returned: completes the records added since the last release itself.</summary>
    public void CompleteHere() => CompleteBatch();

    public void Dispose()
    {
        _stopping = true;
        _wake.Set();
        _thread.Join();
    }

    private void Run()
    {
        long seen = 0;
        int spins = 0;
        while (!_stopping)
        {
            if (!_awake)
            {
                _wake.Wait();
                continue;
            }

            // Spins on the go line alone; looks at the flags now and then.
            while (Volatile.Read(ref _go.Value) == seen && (++spins & 1023) != 0)
            {
                Thread.SpinWait(1);
            }

            if (Volatile.Read(ref _go.Value) == seen)
            {
                continue;
            }

            seen++;
            CompleteBatch();
            Volatile.Write(ref _done.Value, seen);
        }
    }

    private void CompleteBatch()
    {
        int count = (int)_count.Value;
        _count.Value = 0; // before the last completion: after it, the invalidating thread may add the next batch
        for (int i = 0; i < count; i++)
        {
            _batch[i].Complete(); // the entry stays until overwritten: no write to the invalidating thread's lines
        }
    }
}

/// <summary>A counter alone on its cache line (and the next: adjacent-line prefetch).</summary>
[StructLayout(LayoutKind.Explicit, Size = 256)]
internal struct PaddedCounter
{
    [FieldOffset(128)]
    public long Value;
}
