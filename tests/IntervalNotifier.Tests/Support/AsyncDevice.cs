namespace IntervalNotifier.Tests.Support;

/// <summary>
/// An asynchronous two-pass test device: its start pass takes a pooled record and a completion
/// the test controls; its asynchronous finish logs that it was called and completes when the
/// test completes it (or faults it); its synchronous finish blocks on the same completion.
/// </summary>
internal sealed class AsyncDevice : IAsyncTwoPassIntervalInvalidator
{
    private readonly List<string> _log;
    private int _finishes;

    public AsyncDevice(string name, FinishRecordPool<DeviceRecord> pool, List<string> log)
    {
        Name = name;
        Pool = pool;
        _log = log;
    }

    public string Name { get; }

    public FinishRecordPool<DeviceRecord> Pool { get; }

    /// <summary>The completions of the finishes called so far, in call order.</summary>
    public List<TaskCompletionSource> Completions { get; } = [];

    /// <summary>Whether a finish completes at once (no completion to wait for).</summary>
    public bool CompletesAtOnce { get; set; }

    /// <summary>Runs inside the asynchronous finish after its first await (in its continuation).</summary>
    public Action? InContinuation { get; set; }

    public int Finishes => Volatile.Read(ref _finishes);

    /// <summary>Whether the release (teardown) invalidation gets a record and a pending finish too; by default it falls back, so that a test's teardown never waits on a completion nobody gives.</summary>
    public bool PendsOnRelease { get; set; }

    public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
    {
        subscription.SetSequence(currentSequence);
        if (range.Event == InvalidationEvent.Release && !PendsOnRelease)
        {
            finish = null;
            return true;
        }

        Log($"{Name} start");
        finish = Pool.TryRent(out DeviceRecord? record) ? record : null;
        return true;
    }

    public void InvalidateFinish(FinishRecord finish)
    {
        Log($"{Name} finish (blocking)");
        if (!CompletesAtOnce)
        {
            TaskCompletionSource completion = NewCompletion();
            Assert.True(completion.Task.Wait(Waiting.Patience), "the blocking finish was never completed");
        }

        Interlocked.Increment(ref _finishes);
    }

    public ValueTask InvalidateFinishAsync(FinishRecord finish)
    {
        Log($"{Name} finish called");
        if (CompletesAtOnce && InContinuation is null)
        {
            Interlocked.Increment(ref _finishes);
            return ValueTask.CompletedTask;
        }

        return Awaited(NewCompletion().Task);

        async ValueTask Awaited(Task completion)
        {
            if (InContinuation is { } action)
            {
                await Task.Yield();
                action();
            }

            await completion.ConfigureAwait(false);
            Log($"{Name} finish completed");
            Interlocked.Increment(ref _finishes);
        }
    }

    private TaskCompletionSource NewCompletion()
    {
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (Completions)
        {
            Completions.Add(completion);
        }

        if (CompletesAtOnce)
        {
            completion.SetResult();
        }

        return completion;
    }

    private void Log(string entry)
    {
        lock (_log)
        {
            _log.Add(entry);
        }
    }
}
