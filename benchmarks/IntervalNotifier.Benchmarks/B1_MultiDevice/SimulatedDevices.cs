using System.Diagnostics;

namespace IntervalNotifier.Benchmarks.B1_MultiDevice;

/// <summary>How a simulated device waits for its flush deadline.</summary>
public enum WaitMode
{
    /// <summary>Spin on the clock until the deadline (precise; the default).</summary>
    Spin,

    /// <summary>Sleep while more than a millisecond remains, then spin.</summary>
    Sleep,
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
