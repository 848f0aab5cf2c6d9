namespace IntervalNotifier.Benchmarks.Baselines;

/// <summary>
/// A <see cref="SortedSet{T}"/> of intervals ordered by start (B3's baseline): O(log n) insert
/// and remove; a query takes the view of starts in [start - longest length, last] and filters it.
/// </summary>
public sealed class SortedSetIntervals
{
    private readonly SortedSet<(ulong Start, int Id, ulong Last)> _set = [];
    private ulong _maxLength;

    public SortedSetIntervals(IEnumerable<(ulong Start, ulong Last, int Id)> intervals)
    {
        foreach ((ulong start, ulong last, int id) in intervals)
        {
            Insert(start, last, id);
        }
    }

    public int CountOverlapping(ulong start, ulong last)
    {
        ulong from = start > _maxLength ? start - _maxLength : 0;
        int hits = 0;
        foreach ((ulong _, int _, ulong l) in _set.GetViewBetween((from, int.MinValue, 0), (last, int.MaxValue, ulong.MaxValue)))
        {
            if (l >= start)
            {
                hits++;
            }
        }

        return hits;
    }

    public void Insert(ulong start, ulong last, int id)
    {
        _set.Add((start, id, last));
        _maxLength = Math.Max(_maxLength, last - start);
    }

    public bool Remove(ulong start, ulong last, int id) => _set.Remove((start, id, last));
}
