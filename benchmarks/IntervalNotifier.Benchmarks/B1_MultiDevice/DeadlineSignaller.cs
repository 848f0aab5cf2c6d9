using System.Diagnostics;

namespace IntervalNotifier.Benchmarks.B1_MultiDevice;

/// <summary>Something a <see cref="DeadlineSignaller"/> completes when its deadline passes.</summary>
internal interface IDeadlineTarget
{
    /// <summary>Called once, on the signaller's thread, at (just after) the deadline it was scheduled with.</summary>
    void OnDeadline();
}

/// <summary>
/// The "device clock": one dedicated background thread that completes every scheduled
/// completion when its deadline passes. It models the devices' interrupt — every device's
/// completion is signalled by this one thread, not by a thread per device or per flush.
/// </summary>
/// <remarks>
/// <para>
/// Pending deadlines sit in a min-heap (<see cref="PriorityQueue{TElement, TPriority}"/>, sized
/// up front so that scheduling allocates nothing) behind a lock. The earliest deadline is also
/// published in a volatile field that the clock thread spins on without the lock, reading
/// <see cref="Stopwatch.GetTimestamp"/> for precision; a schedule with an earlier deadline
/// lowers it (and wakes the thread if it was blocked). When a deadline passes, the thread takes
/// every due entry under the lock and completes them outside it, in deadline order — so a
/// completion's continuation (which runs inline on this thread) never meets the lock held.
/// </para>
/// <para>
/// The thread spins on the clock purely (for precision) only while a deadline is pending.
/// With nothing pending it spins for <c>idleSpin</c> (or until the time given to
/// <see cref="KeepAwake"/>) yielding its core at every turn, then blocks on the lock's monitor until the next schedule; with
/// only deadlines further off than two milliseconds it blocks until one millisecond before the
/// earliest, then spins. A device's interrupt needs no thread to be woken: a measurement calls
/// <see cref="KeepAwake"/> before it starts its timer, so that the operating system's wake-up
/// latency of this thread — an artefact of the model — stays out of it. Disposing lets the
/// pending deadlines pass and be completed, then ends the thread.
/// </para>
/// </remarks>
internal sealed class DeadlineSignaller : IDisposable
{
    private static readonly long FarTicks = Stopwatch.Frequency / 500;       // 2 ms
    private static readonly long WakeEarlyTicks = Stopwatch.Frequency / 1000; // 1 ms

    private readonly object _gate = new();
    private readonly PriorityQueue<IDeadlineTarget, long> _pending;
    private readonly List<IDeadlineTarget> _due;
    private readonly Thread _thread;
    private readonly long _idleSpinTicks;

    // The earliest pending deadline, or long.MaxValue; written under the lock, spun on without it.
    private long _earliest = long.MaxValue;

    // KeepAwake: requests made, requests the clock thread has seen (while running), and how
    // long the latest asked it to stay awake.
    private long _wakeRequests;
    private long _wakeAcknowledged;
    private long _awakeTicks;

    // Until when the thread spins with nothing pending (KeepAwake); the clock thread's own.
    private long _awakeUntil;

    // Guarded by the lock.
    private bool _blocked;
    private bool _stopping;

    // Statistics, written by the clock thread only.
    private long _signalled;
    private long _latenessTicks;
    private long _maxLatenessTicks;

    /// <summary>Starts the clock thread.</summary>
    /// <param name="capacity">Pending deadlines the heap holds without growing (allocating).</param>
    /// <param name="idleSpin">How long the thread spins with nothing pending before it blocks.</param>
    public DeadlineSignaller(int capacity, TimeSpan idleSpin)
    {
        _pending = new PriorityQueue<IDeadlineTarget, long>(capacity);
        _due = new List<IDeadlineTarget>(capacity);
        _idleSpinTicks = (long)(idleSpin.TotalSeconds * Stopwatch.Frequency);
        _thread = new Thread(Run) { IsBackground = true, Name = "device clock" };
        _thread.Start();
    }

    /// <summary>The clock thread's managed id.</summary>
    public int ThreadId => _thread.ManagedThreadId;

    /// <summary>Completions signalled so far.</summary>
    public long Signalled => Volatile.Read(ref _signalled);

    /// <summary>The mean delay between a deadline and its completion, in µs.</summary>
    public double MeanLatenessMicros => Signalled == 0 ? 0 : Volatile.Read(ref _latenessTicks) * 1e6 / Stopwatch.Frequency / Signalled;

    /// <summary>The largest delay between a deadline and its completion, in µs.</summary>
    public double MaxLatenessMicros => Volatile.Read(ref _maxLatenessTicks) * 1e6 / Stopwatch.Frequency;

    /// <summary>Has <paramref name="target"/> completed at <paramref name="deadline"/> (a <see cref="Stopwatch"/> timestamp). Any thread; allocates nothing while the heap has room.</summary>
    public void Schedule(IDeadlineTarget target, long deadline)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            _pending.Enqueue(target, deadline);
            if (deadline < _earliest)
            {
                Volatile.Write(ref _earliest, deadline);
                if (_blocked)
                {
                    Monitor.Pulse(_gate);
                }
            }
        }
    }

    /// <summary>
    /// Has the clock thread spin (not block) for <paramref name="duration"/> from now even with
    /// nothing pending, and returns once it is running: call it before a timed region so that the
    /// thread's wake-up is not timed.
    /// </summary>
    public void KeepAwake(TimeSpan duration)
    {
        Volatile.Write(ref _awakeTicks, (long)(duration.TotalSeconds * Stopwatch.Frequency));
        long request = Interlocked.Increment(ref _wakeRequests);
        lock (_gate)
        {
            if (_blocked)
            {
                Monitor.Pulse(_gate);
            }
        }

        while (Volatile.Read(ref _wakeAcknowledged) < request)
        {
            Thread.SpinWait(20);
        }
    }

    /// <summary>Lets every pending deadline pass and be signalled, then ends the clock thread.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.Pulse(_gate);
        }

        _thread.Join();
    }

    private void Run()
    {
        while (WaitUntilDue())
        {
            // Spin on the clock until the earliest deadline (it may move earlier meanwhile).
            long now;
            while ((now = Stopwatch.GetTimestamp()) < Volatile.Read(ref _earliest))
            {
                AcknowledgeWakeRequests(now);
            }

            lock (_gate)
            {
                now = Stopwatch.GetTimestamp();
                while (_pending.TryPeek(out IDeadlineTarget? target, out long deadline) && deadline <= now)
                {
                    _pending.Dequeue();
                    _due.Add(target);
                    long late = now - deadline;
                    _latenessTicks += late;
                    _maxLatenessTicks = Math.Max(_maxLatenessTicks, late);
                }

                Volatile.Write(ref _earliest, _pending.TryPeek(out _, out long next) ? next : long.MaxValue);
            }

            // Outside the lock: a completion runs its continuation inline, here.
            foreach (IDeadlineTarget target in _due)
            {
                target.OnDeadline();
            }

            Volatile.Write(ref _signalled, _signalled + _due.Count);
            _due.Clear();
        }
    }

    // Blocks (or spins, just after the last completion) until a deadline is near; false when
    // disposed with nothing pending.
    private bool WaitUntilDue()
    {
        long idleUntil = Stopwatch.GetTimestamp() + _idleSpinTicks;
        while (true)
        {
            while (Volatile.Read(ref _earliest) == long.MaxValue && !Volatile.Read(ref _stopping))
            {
                long now = Stopwatch.GetTimestamp();
                AcknowledgeWakeRequests(now);
                if (now >= idleUntil && now >= _awakeUntil)
                {
                    break;
                }

                // Idle: a thread waiting for this core (on a busy machine, maybe the invalidating
                // one) runs; with none, this returns at once.
                _ = Thread.Yield();
            }

            lock (_gate)
            {
                long earliest = _earliest;
                long now = Stopwatch.GetTimestamp();
                AcknowledgeWakeRequests(now); // a KeepAwake after this finds the thread blocked, and wakes it
                if (earliest == long.MaxValue)
                {
                    if (_stopping)
                    {
                        return false;
                    }

                    if (now < _awakeUntil)
                    {
                        continue; // asked to stay awake meanwhile
                    }

                    _blocked = true;
                    Monitor.Wait(_gate);
                    _blocked = false;
                    idleUntil = 0;
                    continue;
                }

                long remaining = earliest - now;
                if (remaining > FarTicks && now >= _awakeUntil)
                {
                    _blocked = true;
                    Monitor.Wait(_gate, TimeSpan.FromSeconds((double)(remaining - WakeEarlyTicks) / Stopwatch.Frequency));
                    _blocked = false;
                    continue;
                }

                return true;
            }
        }
    }

    // On the clock thread, while it runs: a KeepAwake not seen yet keeps it spinning from now on.
    private void AcknowledgeWakeRequests(long now)
    {
        long requests = Volatile.Read(ref _wakeRequests);
        if (requests != _wakeAcknowledged)
        {
            _awakeUntil = now + Volatile.Read(ref _awakeTicks);
            Volatile.Write(ref _wakeAcknowledged, requests);
        }
    }
}
