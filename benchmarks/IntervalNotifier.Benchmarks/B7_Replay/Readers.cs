namespace IntervalNotifier.Benchmarks.B7_Replay;

/// <summary>
/// The device's fault handlers: threads that fault random sample pages of random live mappings
/// through the §3 fault path — read_begin, read the primary (and copy it), take the device lock, read_retry,
/// publish — and count what the oracle finds.
/// </summary>
internal sealed class Readers(LiveMappings live, int count)
{
    // About 100-300 ns here: a 4 KiB copy, and the window in which an invalidation can overtake a fault.
    private const int CopySpins = 64;

    private readonly Thread[] _threads = new Thread[count];
    private volatile bool _stop;
    private int _running;
    private long _faults;
    private long _retries;
    private long _stalePublished;

    /// <summary>Faults that published a page.</summary>
    public long Faults => Volatile.Read(ref _faults);

    /// <summary>Faults that read_retry sent back to the start.</summary>
    public long Retries => Volatile.Read(ref _retries);

    /// <summary>Pages published older than the primary (the oracle; goal 0).</summary>
    public long StalePublished => Volatile.Read(ref _stalePublished);

    public void Start()
    {
        for (int i = 0; i < _threads.Length; i++)
        {
            ulong seed = 0x9E3779B97F4A7C15UL * (ulong)(i + 1);
            _threads[i] = new Thread(() => Run(seed)) { IsBackground = true, Name = $"B7 reader {i}" };
            _threads[i].Start();
        }

        // The replay starts once every reader runs, so that a short trace is not over before
        // the scheduler has got round to them.
        var wait = new SpinWait();
        while (Volatile.Read(ref _running) < _threads.Length)
        {
            wait.SpinOnce();
        }
    }

    public void Stop()
    {
        _stop = true;
        foreach (Thread thread in _threads)
        {
            thread?.Join();
        }
    }

    private void Run(ulong state)
    {
        long faults = 0, retries = 0, stale = 0;
        Interlocked.Increment(ref _running);
        while (!_stop)
        {
            state = Next(state);
            if (live.Pick(state) is not { } mapping || mapping.Samples == 0)
            {
                Thread.SpinWait(16); // nothing mapped yet: spin (a yield can hand the core away for longer than a short replay)
                continue;
            }

            state = Next(state);
            int slot = (int)(state % (ulong)mapping.Samples);
            Fault(mapping, slot, ref faults, ref retries, ref stale);
        }

        Interlocked.Add(ref _faults, faults);
        Interlocked.Add(ref _retries, retries);
        Interlocked.Add(ref _stalePublished, stale);
    }

    private static void Fault(MirroredMapping mapping, int slot, ref long faults, ref long retries, ref long stale)
    {
        IReplaySpace space = mapping.Space;
        while (mapping.Alive)
        {
            ulong sequence = space.ReadBegin(mapping);
            ulong version = mapping.ReadPrimary(slot);
            if (version == MirroredMapping.Gone)
            {
                return; // the page was unmapped: the fault fails
            }

            Thread.SpinWait(CopySpins); // copying the page to the device takes a while

            lock (mapping.DeviceLock)
            {
                if (space.ReadRetry(mapping, sequence))
                {
                    retries++;
                    continue;
                }

                if (!mapping.Alive)
                {
                    return;
                }

                if (mapping.Publish(slot, version))
                {
                    stale++;
                }

                faults++;
                return;
            }
        }
    }

    private static ulong Next(ulong x)
    {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    }
}
