namespace IntervalNotifier.Benchmarks.Baselines;

/// <summary>
/// The best hand-written alternative to an address space when the set of subscriptions rarely
/// changes (B2's baseline): a lock over arrays sorted by start, searched by start with the
/// longest subscription's length as the look-back bound (the rust-lapper idea, as in
/// <see cref="SortedArrayIntervals"/>), each hit's callback called under the lock like
/// <see cref="LockedListAddressSpace"/> does. Subscribing shifts the arrays (O(n)).
/// </summary>
public sealed class LockedSortedArrayAddressSpace
{
    private readonly object _lock = new();
    private ulong[] _starts;
    private ulong[] _lasts;
    private Entry[] _entries;
    private int _count;
    private ulong _maxLength;
    private ulong _sequence = 2;

    public sealed class Entry(ulong start, ulong last)
    {
        public ulong Start { get; } = start;

        public ulong Last { get; } = last;

        public ulong Sequence;
    }

    /// <summary>Builds the index over <paramref name="intervals"/> at once (sorting, not n inserts).</summary>
    public LockedSortedArrayAddressSpace(IEnumerable<(ulong Start, ulong Last, int Id)> intervals)
    {
        Entry[] sorted = [.. intervals.Select(i => new Entry(i.Start, i.Last)).OrderBy(e => e.Start)];
        _count = sorted.Length;
        _entries = new Entry[Math.Max(16, _count)];
        _starts = new ulong[_entries.Length];
        _lasts = new ulong[_entries.Length];
        for (int i = 0; i < _count; i++)
        {
            _entries[i] = sorted[i];
            _starts[i] = sorted[i].Start;
            _lasts[i] = sorted[i].Last;
            _maxLength = Math.Max(_maxLength, sorted[i].Last - sorted[i].Start);
        }
    }

    public int Count => _count;

    public Entry Subscribe(ulong start, ulong last)
    {
        var entry = new Entry(start, last);
        lock (_lock)
        {
            if (_count == _entries.Length)
            {
                Array.Resize(ref _entries, _count * 2);
                Array.Resize(ref _starts, _count * 2);
                Array.Resize(ref _lasts, _count * 2);
            }

            int at = LowerBound(start == ulong.MaxValue ? start : start + 1); // after equal starts
            Array.Copy(_entries, at, _entries, at + 1, _count - at);
            Array.Copy(_starts, at, _starts, at + 1, _count - at);
            Array.Copy(_lasts, at, _lasts, at + 1, _count - at);
            (_entries[at], _starts[at], _lasts[at]) = (entry, start, last);
            _count++;
            _maxLength = Math.Max(_maxLength, last - start);
        }

        return entry;
    }

    /// <summary>Begin + end of one invalidation: every overlapping entry's sequence is set, under the lock.</summary>
    public int Invalidate(ulong start, ulong last)
    {
        int hits = 0;
        lock (_lock)
        {
            ulong current = _sequence | 1;
            ulong from = start > _maxLength ? start - _maxLength : 0;
            for (int i = LowerBound(from); i < _count && _starts[i] <= last; i++)
            {
                if (_lasts[i] >= start)
                {
                    Volatile.Write(ref _entries[i].Sequence, current); // the callback: set the sequence
                    hits++;
                }
            }

            _sequence = current + 1;
        }

        return hits;
    }

    private int LowerBound(ulong value) => SortedArrayIntervals.LowerBound(_starts, _count, value);
}
