namespace IntervalNotifier.Benchmarks.Baselines;

/// <summary>
/// The obvious hand-written alternative to an address space (B2's baseline): a lock and a list
/// of subscriptions scanned linearly, each hit's callback called under the lock.
/// </summary>
public sealed class LockedListAddressSpace
{
    private readonly object _lock = new();
    private readonly List<Entry> _entries = [];
    private ulong _sequence = 2;

    public sealed class Entry(ulong start, ulong last)
    {
        public ulong Start { get; } = start;

        public ulong Last { get; } = last;

        public ulong Sequence;
    }

    public Entry Subscribe(ulong start, ulong last)
    {
        var entry = new Entry(start, last);
        lock (_lock)
        {
            _entries.Add(entry);
        }

        return entry;
    }

    /// <summary>Begin + end of one invalidation: every overlapping entry's sequence is set.</summary>
    public int Invalidate(ulong start, ulong last)
    {
        int hits = 0;
        lock (_lock)
        {
            ulong current = _sequence | 1;
            foreach (Entry e in _entries)
            {
                if (e.Start <= last && start <= e.Last)
                {
                    Volatile.Write(ref e.Sequence, current); // the callback: set the sequence
                    hits++;
                }
            }

            _sequence = current + 1;
        }

        return hits;
    }
}
