// The tests read results of ValueTasks that have completed, on this thread, so that
// GC.GetAllocatedBytesForCurrentThread sees every allocation of the operation.
#pragma warning disable xUnit1031

using System.Threading.Tasks.Sources;

namespace IntervalNotifier.Tests.Allocation;

/// <summary>
/// docs/contract.md §9 and §8: the asynchronous begin and the asynchronous waits allocate nothing
/// in steady state (pooled state, no per-operation objects), measured on the calling thread.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class AsyncAllocationTests(ITestOutputHelper output)
{
    private sealed class PooledTwoPass(FinishRecordPool<FinishRecord> pool) : ITwoPassIntervalInvalidator
    {
        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            subscription.SetSequence(currentSequence);
            finish = pool.TryRent(out FinishRecord? r) ? r : null;
            return true;
        }

        public void InvalidateFinish(FinishRecord finish)
        {
        }
    }

    /// <summary>An asynchronous device whose finish is a reusable, manually completed source (so that the device itself allocates nothing).</summary>
    private sealed class ManualDevice(FinishRecordPool<FinishRecord> pool) : IAsyncTwoPassIntervalInvalidator, IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<bool> _core;

        public bool CompletesAtOnce { get; set; }

        public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
        {
            subscription.SetSequence(currentSequence);
            finish = pool.TryRent(out FinishRecord? r) ? r : null;
            return true;
        }

        public void InvalidateFinish(FinishRecord finish)
        {
        }

        public ValueTask InvalidateFinishAsync(FinishRecord finish)
        {
            if (CompletesAtOnce)
            {
                return ValueTask.CompletedTask;
            }

            _core.Reset();
            return new ValueTask(this, _core.Version);
        }

        public void Complete() => _core.SetResult(true);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        public void GetResult(short token) => _core.GetResult(token);
    }

    private long MeasureAsyncBegins(AddressSpace space, InvalidationRange range, ManualDevice[] devices, int rounds)
    {
        void Once()
        {
            ValueTask<InvalidationScope> begin = space.BeginInvalidationAsync(range);
            foreach (ManualDevice device in devices)
            {
                if (!device.CompletesAtOnce)
                {
                    device.Complete(); // the last completion concludes the begin, on this thread
                }
            }

            Assert.True(begin.IsCompleted);
            begin.GetAwaiter().GetResult().Dispose();
        }

        for (int i = 0; i < 20; i++)
        {
            Once();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < rounds; i++)
        {
            Once();
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{allocated} bytes over {rounds} asynchronous begins with {devices.Length} devices");
        return allocated;
    }

    [Fact]
    public void WarmAsyncBegin_WithSynchronousSubscribers_AllocatesNothing()
    {
        using var space = new AddressSpace();
        var pool = new FinishRecordPool<FinishRecord>(4);
        for (int i = 0; i < 4; i++)
        {
            space.Subscribe(0, 10, new PooledTwoPass(pool));
        }

        var range = new InvalidationRange(0, 10);
        for (int i = 0; i < 20; i++)
        {
            space.BeginInvalidationAsync(range).GetAwaiter().GetResult().Dispose();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            ValueTask<InvalidationScope> begin = space.BeginInvalidationAsync(range);
            Assert.True(begin.IsCompletedSuccessfully);
            begin.Result.Dispose();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(0, pool.Rented);
    }

    // With asynchronous subscribers, the one allocation is the mark that the finishes' flows
    // carry for self-wait detection (an execution context with one more async-local value):
    // once per begin, the same for 1 device as for 16, pending or not; the finish machinery
    // itself (the pooled AsyncBegin, its continuations, the task) allocates nothing.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WarmAsyncBegin_WithAsynchronousSubscribers_AllocatesOnlyTheFlowMark_NothingPerDevice(bool completeAtOnce)
    {
        long PerBegin(int count)
        {
            using var space = new AddressSpace();
            var pool = new FinishRecordPool<FinishRecord>(count);
            ManualDevice[] devices = [.. Enumerable.Range(0, count).Select(_ => new ManualDevice(pool) { CompletesAtOnce = completeAtOnce })];
            foreach (ManualDevice device in devices)
            {
                space.Subscribe(0, 10, device);
            }

            long perBegin = MeasureAsyncBegins(space, new InvalidationRange(0, 10), devices, 1000) / 1000;
            Assert.Equal(0, pool.Rented);
            foreach (ManualDevice device in devices)
            {
                device.CompletesAtOnce = true; // for the release
            }

            return perBegin;
        }

        long one = PerBegin(1);
        long sixteen = PerBegin(16);
        output.WriteLine($"bytes per asynchronous begin: {one} with 1 device, {sixteen} with 16");
        Assert.Equal(one, sixteen);
        Assert.InRange(one, 1, 256);
    }

    // A server keeps many invalidations in flight: the pooled begins are kept for as many as were
    // ever pending at once, so a warm round of 200 pending begins allocates per begin exactly what
    // one begin at a time does (the flow mark), not a new begin object each.
    [Fact]
    public void WarmAsyncBegins_ManyPendingAtOnce_AllocateNoMorePerBeginThanOneAtATime()
    {
        const int Pending = 200;
        using var space = new AddressSpace();
        var pool = new FinishRecordPool<FinishRecord>(Pending);
        ManualDevice[] devices = [.. Enumerable.Range(0, Pending).Select(_ => new ManualDevice(pool))];
        for (int i = 0; i < Pending; i++)
        {
            space.Subscribe((ulong)i * 100, 10, devices[i]);
        }

        long oneAtATime = MeasureAsyncBegins(space, new InvalidationRange(0, 10), [devices[0]], 1000) / 1000;
        var begins = new ValueTask<InvalidationScope>[Pending];
        void Round()
        {
            for (int i = 0; i < Pending; i++)
            {
                begins[i] = space.BeginInvalidationAsync(new InvalidationRange((ulong)i * 100, ((ulong)i * 100) + 10));
                Assert.False(begins[i].IsCompleted);
            }

            foreach (ManualDevice device in devices)
            {
                device.Complete();
            }

            foreach (ValueTask<InvalidationScope> begin in begins)
            {
                Assert.True(begin.IsCompleted);
                begin.GetAwaiter().GetResult().Dispose();
            }
        }

        Round();
        Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Round();
        long manyAtOnce = (GC.GetAllocatedBytesForCurrentThread() - before) / Pending;
        output.WriteLine($"bytes per asynchronous begin: {oneAtATime} one at a time, {manyAtOnce} with {Pending} pending at once");
        Assert.Equal(oneAtATime, manyAtOnce);
        Assert.Equal(0, pool.Rented);
        foreach (ManualDevice device in devices)
        {
            device.CompletesAtOnce = true; // for the release
        }
    }

    [Fact]
    public void WarmAsyncWaits_ReadBeginAsyncAndUnsubscribeAsync_AllocateNothing()
    {
        using var space = new AddressSpace();
        IntervalSubscription reader = space.Subscribe(0, 10, new PooledTwoPass(new FinishRecordPool<FinishRecord>(1)));
        var range = new InvalidationRange(0, 10);
        void Once()
        {
            InvalidationScope scope = space.BeginAnywhere(range);
            ValueTask<ulong> read = reader.ReadBeginAsync(TestContext.Current.CancellationToken);
            IntervalSubscription leaving = space.Subscribe(100, 10, new PooledTwoPass(new FinishRecordPool<FinishRecord>(1)));
            Assert.False(read.IsCompleted);
            scope.Dispose();
            Assert.True(read.IsCompleted);
            read.GetAwaiter().GetResult();
            leaving.Dispose();
        }

        for (int i = 0; i < 20; i++)
        {
            Once();
        }

        // The subscription and pool objects of `leaving` are the test's; count only the waits.
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++)
        {
            InvalidationScope scope = space.BeginAnywhere(range);
            ValueTask<ulong> read = reader.ReadBeginAsync(TestContext.Current.CancellationToken);
            scope.Dispose();
            read.GetAwaiter().GetResult();
        }

        long reads = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{reads} bytes over 200 waiting ReadBeginAsync");
        Assert.Equal(0, reads);

        var shared = new PooledTwoPass(new FinishRecordPool<FinishRecord>(1)); // one pool: a thread's first use of a pool makes its cache
        IntervalSubscription[] leaving = [.. Enumerable.Range(0, 200).Select(i => space.Subscribe(1000 + (ulong)i, 1, shared))];
        space.BeginInvalidation(new InvalidationRange(1000, 1001)).Dispose(); // warm that pool on this thread
        before = GC.GetAllocatedBytesForCurrentThread();
        foreach (IntervalSubscription s in leaving)
        {
            InvalidationScope scope = space.BeginAnywhere(new InvalidationRange(s.Start, s.Start + 1));
            ValueTask unsubscribe = s.UnsubscribeAsync(TestContext.Current.CancellationToken);
            scope.Dispose();
            unsubscribe.GetAwaiter().GetResult();
        }

        long unsubscribes = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{unsubscribes} bytes over 200 waiting UnsubscribeAsync");
        Assert.Equal(0, unsubscribes);
    }
}
