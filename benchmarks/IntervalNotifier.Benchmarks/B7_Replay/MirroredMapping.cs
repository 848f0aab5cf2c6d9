namespace IntervalNotifier.Benchmarks.B7_Replay;

/// <summary>
/// One mapping as the SVM-style device mirrors it — the object subscribed for the mapping and
/// its callback — with the primary's side of the page-version oracle. A fixed set of sample
/// pages spread over the mapping stands for its pages: the primary keeps a version per sample
/// (bumped inside every invalidation bracket that covers it), the mirror the version it
/// published (0: not mirrored). Faults and callbacks take the device's lock, as a driver's do.
/// </summary>
public sealed class MirroredMapping : IIntervalInvalidator
{
    /// <summary>The primary's version of a page that was unmapped: a fault on it fails.</summary>
    public const ulong Gone = ulong.MaxValue;

    private const int MaxSamples = 16;

    private readonly ulong[] _pages;
    private readonly ulong[] _primary;
    private readonly ulong[] _mirror;
    private volatile bool _alive = true;

    public MirroredMapping(int id, object deviceLock, IReplaySpace space, ulong start, ulong end, ulong version)
    {
        Id = id;
        DeviceLock = deviceLock;
        Space = space;
        Start = start;
        Last = end - 1;
        ulong pages = (end - start) / ReplayPlanner.PageSize;
        int samples = (int)Math.Min(pages, MaxSamples);
        _pages = new ulong[samples];
        _primary = new ulong[samples];
        _mirror = new ulong[samples];
        for (int i = 0; i < samples; i++)
        {
            ulong page = samples == 1 ? 0 : (pages - 1) * (ulong)i / (ulong)(samples - 1);
            _pages[i] = start + (page * ReplayPlanner.PageSize);
            _primary[i] = version;
        }
    }

    public int Id { get; }

    /// <summary>The device's lock: the callbacks take it, and faults publish under it.</summary>
    public object DeviceLock { get; }

    /// <summary>The address space the mapping is subscribed to (the library or a baseline).</summary>
    public IReplaySpace Space { get; }

    public ulong Start { get; }

    public ulong Last { get; }

    public int Samples => _pages.Length;

    /// <summary>The space's handle for the subscription (an <see cref="IntervalSubscription"/> or a baseline entry).</summary>
    public object? Handle { get; set; }

    /// <summary>Whether the device still mirrors the mapping; cleared under the device lock at unsubscribe.</summary>
    public bool Alive
    {
        get => _alive;
        set => _alive = value;
    }

    /// <summary>Where the mapping sits in the readers' live set; owned by the writer.</summary>
    public int LiveIndex { get; set; } = -1;

    /// <summary>The library's callback (single pass): record the sequence and tear down, under the device lock.</summary>
    public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
    {
        lock (DeviceLock)
        {
            subscription.SetSequence(currentSequence);
            TearDown(range.Start, range.Last);
        }

        return true;
    }

    /// <summary>A baseline's callback: the same, with the baseline's own sequence field.</summary>
    public void InvalidateBaseline(ref ulong sequence, ulong currentSequence, ulong start, ulong last)
    {
        lock (DeviceLock)
        {
            Volatile.Write(ref sequence, currentSequence);
            TearDown(start, last);
        }
    }

    /// <summary>The primary's version of sample <paramref name="slot"/> (read by faults without a lock).</summary>
    public ulong ReadPrimary(int slot) => Volatile.Read(ref _primary[slot]);

    /// <summary>
    /// Inside a bracket (the writer): the primary changes every sample page in <c>[start, last]</c>
    /// — a new version, or <see cref="Gone"/> when the pages are unmapped.
    /// </summary>
    public void ChangePrimary(ulong start, ulong last, ref ulong version, bool unmapped)
    {
        for (int i = 0; i < _pages.Length; i++)
        {
            if (_pages[i] >= start && _pages[i] <= last && _primary[i] != Gone)
            {
                Volatile.Write(ref _primary[i], unmapped ? Gone : ++version);
            }
        }
    }

    /// <summary>Publishes a faulted page; call under the device lock after ReadRetry said no. True if it was stale.</summary>
    public bool Publish(int slot, ulong version)
    {
        _mirror[slot] = version;
        return Volatile.Read(ref _primary[slot]) != version;
    }

    /// <summary>The mirrored sample pages in <c>[start, last]</c> older than the primary; call under the device lock.</summary>
    public int CountStale(ulong start, ulong last)
    {
        int stale = 0;
        for (int i = 0; i < _pages.Length; i++)
        {
            if (_pages[i] >= start && _pages[i] <= last && _mirror[i] != 0 && _mirror[i] != Volatile.Read(ref _primary[i]))
            {
                stale++;
            }
        }

        return stale;
    }

    private void TearDown(ulong start, ulong last)
    {
        for (int i = 0; i < _pages.Length; i++)
        {
            if (_pages[i] >= start && _pages[i] <= last)
            {
                _mirror[i] = 0;
            }
        }
    }
}
