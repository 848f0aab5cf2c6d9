using System.Threading.Tasks.Sources;
using BenchmarkDotNet.Attributes;

namespace IntervalNotifier.Benchmarks.B1_MultiDevice;

/// <summary>
/// Bytes and time per asynchronous operation (B1's async goals): an asynchronous begin + end
/// with protocol-only devices — synchronous two-pass ones, or asynchronous ones whose finish
/// completes at once or is completed right after the begin returns — against the synchronous
/// begin; and one waiting <c>ReadBeginAsync</c> (a begin that hits its subscription, the wait,
/// the end that wakes it).
/// </summary>
[MemoryDiagnoser]
public class AsyncOverheadBenchmarks
{
    private readonly InvalidationRange _range = new(0, 4096);
    private AddressSpace _sync = null!;
    private AddressSpace _async = null!;
    private AddressSpace _reads = null!;
    private IntervalSubscription _reader = null!;
    private ManualFinishDevice[] _devices = null!;

    public enum Finish
    {
        Synchronous,
        AtOnce,
        Pending,
    }

    [Params(4)]
    public int Devices { get; set; }

    [Params(Finish.Synchronous, Finish.AtOnce, Finish.Pending)]
    public Finish Kind { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _sync = new AddressSpace();
        _async = new AddressSpace();
        _reads = new AddressSpace();
        var pool = new FinishRecordPool<FinishRecord>(Devices * 2);
        _devices = [.. Enumerable.Range(0, Devices).Select(_ => new ManualFinishDevice(pool) { AtOnce = Kind != Finish.Pending })];
        for (int i = 0; i < Devices; i++)
        {
            _sync.Subscribe(0, 4096, new PooledTwoPassInvalidator(pool));
            _async.Subscribe(0, 4096, Kind == Finish.Synchronous ? new PooledTwoPassInvalidator(pool) : _devices[i]);
        }

        _reader = _reads.Subscribe(0, 4096, new SetSequenceInvalidator());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (ManualFinishDevice d in _devices)
        {
            d.AtOnce = true;
        }

        _sync.Dispose();
        _async.Dispose();
        _reads.Dispose();
    }

    [Benchmark(Baseline = true, Description = "BeginInvalidation + end")]
    public void SyncBegin() => _sync.BeginInvalidation(_range).Dispose();

    [Benchmark(Description = "BeginInvalidationAsync + end")]
    public void AsyncBegin()
    {
        ValueTask<InvalidationScope> begin = _async.BeginInvalidationAsync(_range);
        if (Kind == Finish.Pending)
        {
            foreach (ManualFinishDevice d in _devices)
            {
                d.Complete(); // the last completion concludes the begin, on this thread
            }
        }

        Complete(begin).Dispose();
    }

    [Benchmark(Description = "a waiting ReadBeginAsync (begin, wait, end)")]
    public ulong WaitingRead()
    {
        InvalidationScope scope = Complete(_reads.BeginInvalidationAsync(_range));
        ValueTask<ulong> read = _reader.ReadBeginAsync();
        scope.Dispose();
        return Complete(read);
    }

    // Every task here has completed by the time it is read (the devices were completed on this
    // thread): read it without awaiting, so that the measurement stays on this thread.
    private static T Complete<T>(ValueTask<T> task) =>
        task.IsCompleted ? task.Result : throw new InvalidOperationException("expected a completed task");

    /// <summary>An asynchronous device whose finish is a reusable source completed by the benchmark (or at once).</summary>
    private sealed class ManualFinishDevice(FinishRecordPool<FinishRecord> pool) : IAsyncTwoPassIntervalInvalidator, IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<bool> _core;
        private bool _pending;

        public bool AtOnce { get; set; }

        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            subscription.SetSequence(currentSequence);
            finish = pool.TryRent(out FinishRecord? record) ? record : null;
            return true;
        }

        public void InvalidateFinish(FinishRecord finish)
        {
        }

        public ValueTask InvalidateFinishAsync(FinishRecord finish)
        {
            if (AtOnce)
            {
                return ValueTask.CompletedTask;
            }

            _core.Reset();
            _pending = true;
            return new ValueTask(this, _core.Version);
        }

        public void Complete()
        {
            if (_pending)
            {
                _pending = false;
                _core.SetResult(true);
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        public void GetResult(short token) => _core.GetResult(token);
    }
}
