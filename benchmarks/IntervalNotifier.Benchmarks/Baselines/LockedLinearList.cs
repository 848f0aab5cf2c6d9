namespace IntervalNotifier.Benchmarks.Baselines;

/// <summary>A list of intervals behind a lock, scanned linearly (B3's simplest baseline).</summary>
public sealed class LockedLinearList(IEnumerable<(ulong Start, ulong Last, int Id)> intervals)
{
    private readonly object _lock = new();
    private readonly List<(ulong Start, ulong Last, int Id)> _items = [.. intervals];

    public int CountOverlapping(ulong start, ulong last)
    {
        int hits = 0;
        lock (_lock)
        {
            foreach ((ulong s, ulong l, int _) in _items)
            {
                if (s <= last && start <= l)
                {
                    hits++;
                }
            }
        }

        return hits;
    }

    public void Insert(ulong start, ulong last, int id)
    {
        lock (_lock)
        {
            _items.Add((start, last, id));
        }
    }

    public bool Remove(ulong start, ulong last, int id)
    {
        lock (_lock)
        {
            return _items.Remove((start, last, id));
        }
    }
}
