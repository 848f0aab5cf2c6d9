using System.Diagnostics;
using System.Threading.Tasks.Sources;

namespace IntervalNotifier.Benchmarks.B1_MultiDevice;

/// <summary>How a simulated device waits for its flush deadline.</summary>
public enum WaitMode
{
    /// <summary>Spin on the clock until the deadline (precise; the default).</summary>
    Spin,

    /// <summary>Sleep while more than a millisecond remains, then spin.</summary>
    Sleep,

    /// <summary>
    /// Block the thread: <c>Thread.Sleep(1 ms)</c> while the deadline is more than 50 µs away, then
    /// spin (overshoots by the timer's slack; for the synchronous baseline of many-at-once).
    /// </summary>
    Block,
}

/// <summary>
/// A device flush modelled as a deadline: starting a flush records <c>now + L</c>, and waiting
/// for it spins (or sleeps) until that moment. No CPU work is done by the "device", so the
/// result does not depend on the number of cores.
/// </summary>
internal static class Flush
{
    public static long Start(long latencyTicks) => Stopwatch.GetTimestamp() + latencyTicks;

    public static void WaitFor(long deadline, WaitMode mode)
    {
        if (mode == WaitMode.Sleep)
        {
            long remaining;
            while ((remaining = deadline - Stopwatch.GetTimestamp()) > Stopwatch.Frequency / 1000)
            {
                Thread.Sleep(TimeSpan.FromTicks(remaining * TimeSpan.TicksPerSecond / Stopwatch.Frequency / 2));
            }
        }

        else if (mode == WaitMode.Block)
        {
            while (deadline - Stopwatch.GetTimestamp() > Stopwatch.Frequency / 20_000)
            {
                Thread.Sleep(1);
            }
        }

        while (Stopwatch.GetTimestamp() < deadline)
        {
            // Pure spin: the clock read itself (~25 ns) bounds the overshoot.
        }
    }
}

/// <summary>The record a two-pass device's start pass leaves: the flush deadline.</summary>
internal sealed class FlushRecord : FinishRecord
{
    public long Deadline;
    public WaitMode Wait;
}

/// <summary>A single-pass device: <c>Invalidate</c> starts the flush and waits for it.</summary>
internal sealed class SinglePassDevice(long latencyTicks, WaitMode wait) : IIntervalInvalidator
{
    public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
    {
        subscription.SetSequence(currentSequence);
        Flush.WaitFor(Flush.Start(latencyTicks), wait);
        return true;
    }
}

/// <summary>
/// A two-pass device: <c>InvalidateStart</c> starts the flush and returns a pooled record
/// holding the deadline; <c>InvalidateFinish</c> waits for it. When the pool has no record, the
/// start pass waits for its own flush (the single-pass fallback).
/// </summary>
internal sealed class TwoPassDevice(long latencyTicks, WaitMode wait, FinishRecordPool<FlushRecord> pool) : ITwoPassIntervalInvalidator
{
    public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
    {
        subscription.SetSequence(currentSequence);
        Flush.WaitFor(Flush.Start(latencyTicks), wait);
        return true;
    }

    public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
    {
        subscription.SetSequence(currentSequence);
        long deadline = Flush.Start(latencyTicks);
        if (pool.TryRent(out FlushRecord? record))
        {
            record.Deadline = deadline;
            record.Wait = wait;
            finish = record;
            return true;
        }

        Flush.WaitFor(deadline, wait);
        finish = null;
        return true;
    }

    public void InvalidateFinish(FinishRecord finish)
    {
        var record = (FlushRecord)finish;
        Flush.WaitFor(record.Deadline, record.Wait);
    }
}

/// <summary>
/// The record of an asynchronous device's flush: the deadline, and the completion that the
/// device clock (<see cref="DeadlineSignaller"/>) signals at that deadline. The record is itself
/// the <see cref="IValueTaskSource"/> of the finish's <see cref="ValueTask"/>, over a
/// <see cref="ManualResetValueTaskSourceCore{TResult}"/> reset when the pool takes the record
/// back (<see cref="TryReset"/>), so that a pooled asynchronous finish allocates nothing.
/// </summary>
/// <remarks>
/// Continuations run synchronously (<c>RunContinuationsAsynchronously = false</c>): the core's
/// continuation — which returns this record to its pool and, for the last finish, completes the
/// begin — runs on the clock thread, as completion work runs in a device's interrupt handler.
/// </remarks>
internal sealed class AsyncFlushRecord : FinishRecord, IValueTaskSource, IDeadlineTarget
{
    private ManualResetValueTaskSourceCore<bool> _core;

    public AsyncFlushRecord()
    {
        _core.RunContinuationsAsynchronously = false;
    }

    public long Deadline;

    /// <summary>Where to note the threads that consume completions; <see langword="null"/> to note nothing (B1).</summary>
    public ThreadSet? Consumers;

    /// <summary>The finish's task for the current use.</summary>
    public ValueTask Completion => new(this, _core.Version);

    /// <summary>
    /// Whether the clock has signalled the current use. The core reports a completion only once
    /// its signal is over (the continuation slot holds the completion sentinel), so after this
    /// turns true the clock no longer touches the record, and it may be reset.
    /// </summary>
    public bool IsSignalled => _core.GetStatus(_core.Version) != ValueTaskSourceStatus.Pending;

    void IDeadlineTarget.OnDeadline() => _core.SetResult(true);

    public override bool TryReset()
    {
        _core.Reset();
        Deadline = 0;
        return true;
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    void IValueTaskSource.GetResult(short token)
    {
        Consumers?.Add(Environment.CurrentManagedThreadId);
        _ = _core.GetResult(token);
    }
}

/// <summary>
/// An asynchronous two-pass device: <c>InvalidateStart</c> starts the flush (deadline = now + L),
/// schedules its completion with the device clock and returns a pooled record;
/// <c>InvalidateFinishAsync</c> returns the record's task, which the clock completes at the
/// deadline — no thread waits for the device. When the pool has no record, the start pass waits
/// for its own flush (the single-pass fallback).
/// </summary>
internal sealed class AsyncDevice(long latencyTicks, FinishRecordPool<AsyncFlushRecord> pool, DeadlineSignaller clock, ThreadSet? consumers = null) : IAsyncTwoPassIntervalInvalidator
{
    public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
    {
        subscription.SetSequence(currentSequence);
        Flush.WaitFor(Flush.Start(latencyTicks), WaitMode.Spin);
        return true;
    }

    public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
    {
        subscription.SetSequence(currentSequence);
        long deadline = Flush.Start(latencyTicks);
        if (pool.TryRent(out AsyncFlushRecord? record))
        {
            record.Deadline = deadline;
            record.Consumers = consumers;
            clock.Schedule(record, deadline);
            finish = record;
            return true;
        }

        Flush.WaitFor(deadline, WaitMode.Spin);
        finish = null;
        return true;
    }

    public ValueTask InvalidateFinishAsync(FinishRecord finish) => ((AsyncFlushRecord)finish).Completion;

    /// <summary>
    /// The synchronous finish (the synchronous begin's): spins until the deadline, then until the
    /// clock has signalled the completion — at once, normally — because the record goes back to
    /// its pool when this returns and must not still be on the clock's heap then.
    /// </summary>
    public void InvalidateFinish(FinishRecord finish)
    {
        var record = (AsyncFlushRecord)finish;
        Flush.WaitFor(record.Deadline, WaitMode.Spin);
        while (!record.IsSignalled)
        {
            Thread.SpinWait(1);
        }
    }
}

/// <summary>The distinct managed threads that did something (lock-protected; for reports, not for measured paths).</summary>
internal sealed class ThreadSet
{
    private readonly HashSet<int> _ids = [];

    public void Add(int id)
    {
        lock (_ids)
        {
            _ = _ids.Add(id);
        }
    }

    public int[] Snapshot()
    {
        lock (_ids)
        {
            return [.. _ids.Order()];
        }
    }

    public void Clear()
    {
        lock (_ids)
        {
            _ids.Clear();
        }
    }
}
