namespace IntervalNotifier.Benchmarks.B7_Replay;

/// <summary>A baseline's subscription: the mapping's range, its sequence, and the AVL tree's links.</summary>
public sealed class BaselineEntry(MirroredMapping mapping) : AvlIntervalTreeNode<BaselineEntry>(mapping.Start, mapping.Last)
{
    public MirroredMapping Mapping { get; } = mapping;

    /// <summary>s: written by the callback under the device lock, read by read_begin and read_retry.</summary>
    public ulong Sequence;
}

/// <summary>
/// The baselines: the sequence protocol as a user would write it by hand around an index — one
/// lock held across the whole walk (the callbacks run under it), read_begin under the same lock
/// (waiting on it while the mapping is being invalidated), subscribe and unsubscribe under it.
/// The replay changes the index only outside brackets, so nothing needs deferring.
/// </summary>
public abstract class LockedReplaySpace : IReplaySpace
{
    private readonly object _sync = new();
    private ulong _sequence = 2;
    private ulong _last;
    private ulong _start;

    public void Subscribe(MirroredMapping mapping)
    {
        var entry = new BaselineEntry(mapping);
        lock (_sync)
        {
            entry.Sequence = _sequence - 1;
            Insert(entry);
        }

        mapping.Handle = entry;
    }

    public void Unsubscribe(MirroredMapping mapping)
    {
        lock (_sync)
        {
            Remove((BaselineEntry)mapping.Handle!);
        }
    }

    public void BeginInvalidation(ulong start, ulong last, InvalidationEvent kind)
    {
        lock (_sync)
        {
            _sequence |= 1;
            (_start, _last) = (start, last);
            Walk(start, last, _sequence);
        }
    }

    public void EndInvalidation()
    {
        lock (_sync)
        {
            _sequence++;
            Monitor.PulseAll(_sync);
        }
    }

    public ulong ReadBegin(MirroredMapping mapping)
    {
        var entry = (BaselineEntry)mapping.Handle!;
        lock (_sync)
        {
            while (Volatile.Read(ref entry.Sequence) == _sequence)
            {
                Monitor.Wait(_sync);
            }

            return entry.Sequence;
        }
    }

    public bool ReadRetry(MirroredMapping mapping, ulong sequence) => Volatile.Read(ref ((BaselineEntry)mapping.Handle!).Sequence) != sequence;

    public void Dispose() => GC.SuppressFinalize(this);

    /// <summary>The callback of one hit entry, run under the lock.</summary>
    protected void Hit(BaselineEntry entry, ulong currentSequence) =>
        entry.Mapping.InvalidateBaseline(ref entry.Sequence, currentSequence, _start, _last);

    protected abstract void Insert(BaselineEntry entry);

    protected abstract void Remove(BaselineEntry entry);

    protected abstract void Walk(ulong start, ulong last, ulong currentSequence);
}

/// <summary>The AVL interval tree the library used before (B3's baseline) under one lock.</summary>
public sealed class AvlReplaySpace : LockedReplaySpace
{
    private readonly AvlIntervalTree<BaselineEntry> _tree = new();

    protected override void Insert(BaselineEntry entry) => _tree.Insert(entry);

    protected override void Remove(BaselineEntry entry) => _tree.Remove(entry);

    protected override void Walk(ulong start, ulong last, ulong currentSequence)
    {
        foreach (BaselineEntry entry in _tree.Overlapping(start, last))
        {
            Hit(entry, currentSequence);
        }
    }
}

/// <summary>
/// B2's locked sorted array (searched by start, the longest length seen as the look-back bound),
/// with O(n) inserts and removes that shift the arrays.
/// </summary>
public sealed class SortedArrayReplaySpace : LockedReplaySpace
{
    private ulong[] _starts = new ulong[16];
    private ulong[] _lasts = new ulong[16];
    private BaselineEntry[] _entries = new BaselineEntry[16];
    private int _count;
    private ulong _maxLength;

    protected override void Insert(BaselineEntry entry)
    {
        if (_count == _entries.Length)
        {
            Array.Resize(ref _entries, _count * 2);
            Array.Resize(ref _starts, _count * 2);
            Array.Resize(ref _lasts, _count * 2);
        }

        int at = LowerBound(entry.Start == ulong.MaxValue ? entry.Start : entry.Start + 1); // after equal starts
        Array.Copy(_entries, at, _entries, at + 1, _count - at);
        Array.Copy(_starts, at, _starts, at + 1, _count - at);
        Array.Copy(_lasts, at, _lasts, at + 1, _count - at);
        (_entries[at], _starts[at], _lasts[at]) = (entry, entry.Start, entry.Last);
        _count++;
        _maxLength = Math.Max(_maxLength, entry.Last - entry.Start);
    }

    protected override void Remove(BaselineEntry entry)
    {
        int at = LowerBound(entry.Start);
        while (!ReferenceEquals(_entries[at], entry))
        {
            at++;
        }

        _count--;
        Array.Copy(_entries, at + 1, _entries, at, _count - at);
        Array.Copy(_starts, at + 1, _starts, at, _count - at);
        Array.Copy(_lasts, at + 1, _lasts, at, _count - at);
        _entries[_count] = null!;
    }

    protected override void Walk(ulong start, ulong last, ulong currentSequence)
    {
        ulong from = start > _maxLength ? start - _maxLength : 0;
        for (int i = LowerBound(from); i < _count && _starts[i] <= last; i++)
        {
            if (_lasts[i] >= start)
            {
                Hit(_entries[i], currentSequence);
            }
        }
    }

    private int LowerBound(ulong value) => SortedArrayIntervals.LowerBound(_starts, _count, value);
}

/// <summary>B2's locked list: a list scanned linearly (removal finds the entry by a scan too).</summary>
public sealed class ListReplaySpace : LockedReplaySpace
{
    private readonly List<BaselineEntry> _entries = [];

    protected override void Insert(BaselineEntry entry) => _entries.Add(entry);

    protected override void Remove(BaselineEntry entry) => _entries.Remove(entry);

    protected override void Walk(ulong start, ulong last, ulong currentSequence)
    {
        foreach (BaselineEntry entry in _entries)
        {
            if (entry.Start <= last && start <= entry.Last)
            {
                Hit(entry, currentSequence);
            }
        }
    }
}
