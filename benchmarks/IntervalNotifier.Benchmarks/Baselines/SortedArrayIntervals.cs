namespace IntervalNotifier.Benchmarks.Baselines;

/// <summary>
/// The interval index a .NET user would write (B3's strongest baseline; the idea of
/// rust-lapper): intervals sorted by start, searched by start with the longest interval's
/// length as the look-back bound. Queries are fast when intervals are short and similar;
/// one huge interval makes every query scan from the beginning. Inserting or removing shifts
/// the arrays (O(n)); the look-back bound only grows (a stale, conservative bound after removals).
/// </summary>
public sealed class SortedArrayIntervals
{
    private ulong[] _starts;
    private ulong[] _lasts;
    private int[] _ids;
    private int _count;
    private ulong _maxLength;

    public SortedArrayIntervals(IEnumerable<(ulong Start, ulong Last, int Id)> intervals)
    {
        var sorted = intervals.OrderBy(i => i.Start).ToArray();
        _count = sorted.Length;
        _starts = new ulong[Math.Max(16, _count * 2)];
        _lasts = new ulong[_starts.Length];
        _ids = new int[_starts.Length];
        for (int i = 0; i < _count; i++)
        {
            (_starts[i], _lasts[i], _ids[i]) = sorted[i];
            _maxLength = Math.Max(_maxLength, sorted[i].Last - sorted[i].Start);
        }
    }

    public int Count => _count;

    public int CountOverlapping(ulong start, ulong last)
    {
        ulong from = start > _maxLength ? start - _maxLength : 0;
        int hits = 0;
        for (int i = LowerBound(from); i < _count && _starts[i] <= last; i++)
        {
            if (_lasts[i] >= start)
            {
                hits++;
            }
        }

        return hits;
    }

    public void Insert(ulong start, ulong last, int id)
    {
        if (_count == _starts.Length)
        {
            Array.Resize(ref _starts, _count * 2);
            Array.Resize(ref _lasts, _count * 2);
            Array.Resize(ref _ids, _count * 2);
        }

        int at = LowerBound(start + 1 == 0 ? start : start + 1); // after equal starts
        Array.Copy(_starts, at, _starts, at + 1, _count - at);
        Array.Copy(_lasts, at, _lasts, at + 1, _count - at);
        Array.Copy(_ids, at, _ids, at + 1, _count - at);
        (_starts[at], _lasts[at], _ids[at]) = (start, last, id);
        _count++;
        _maxLength = Math.Max(_maxLength, last - start);
    }

    public bool Remove(ulong start, int id)
    {
        for (int i = LowerBound(start); i < _count && _starts[i] == start; i++)
        {
            if (_ids[i] == id)
            {
                Array.Copy(_starts, i + 1, _starts, i, _count - i - 1);
                Array.Copy(_lasts, i + 1, _lasts, i, _count - i - 1);
                Array.Copy(_ids, i + 1, _ids, i, _count - i - 1);
                _count--;
                return true;
            }
        }

        return false;
    }

    private int LowerBound(ulong value) => LowerBound(_starts, _count, value);

    /// <summary>The first of the <paramref name="count"/> sorted <paramref name="starts"/> that is at least <paramref name="value"/> (binary search).</summary>
    internal static int LowerBound(ulong[] starts, int count, ulong value)
    {
        int lo = 0;
        int hi = count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (starts[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
