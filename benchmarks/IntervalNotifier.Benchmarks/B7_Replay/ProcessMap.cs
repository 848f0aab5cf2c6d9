using System.Diagnostics;

namespace IntervalNotifier.Benchmarks.B7_Replay;

/// <summary>
/// The mappings of one process as the device sees them: disjoint half-open page ranges
/// <c>[Start, End)</c>, each with the id of the subscription that covers it, sorted by start.
/// The replay plan is built from it; it is the model the tests check against a page set.
/// </summary>
public sealed class ProcessMap
{
    private readonly List<Mapping> _mappings = [];

    /// <summary>One mapping: the id of its subscription and its range.</summary>
    public readonly record struct Mapping(int Id, ulong Start, ulong End);

    /// <summary>The live mappings in start order.</summary>
    public IReadOnlyList<Mapping> Mappings => _mappings;

    /// <summary>Whether any mapping overlaps <c>[start, end)</c>.</summary>
    public bool Overlaps(ulong start, ulong end)
    {
        int i = FirstEndingAfter(start);
        return i < _mappings.Count && _mappings[i].Start < end;
    }

    /// <summary>Adds the ids of the mappings that overlap <c>[start, end)</c> to <paramref name="ids"/>, in start order.</summary>
    public void Overlapping(ulong start, ulong end, List<int> ids)
    {
        for (int i = FirstEndingAfter(start); i < _mappings.Count && _mappings[i].Start < end; i++)
        {
            ids.Add(_mappings[i].Id);
        }
    }

    /// <summary>Adds a mapping; it must not overlap a live one.</summary>
    public void Add(int id, ulong start, ulong end)
    {
        Debug.Assert(start < end && !Overlaps(start, end));
        int i = FirstEndingAfter(start);
        _mappings.Insert(i, new Mapping(id, start, end));
    }

    /// <summary>
    /// Removes <c>[start, end)</c>: every mapping that overlaps it goes (its id added to
    /// <paramref name="removed"/>), and the parts of those mappings outside the range are
    /// returned in <paramref name="remainders"/> (start order) for the caller to add again
    /// under new ids.
    /// </summary>
    public void Remove(ulong start, ulong end, List<int> removed, List<(ulong Start, ulong End)> remainders)
    {
        int i = FirstEndingAfter(start);
        while (i < _mappings.Count && _mappings[i].Start < end)
        {
            Mapping m = _mappings[i];
            _mappings.RemoveAt(i);
            removed.Add(m.Id);
            if (m.Start < start)
            {
                remainders.Add((m.Start, start));
            }

            if (m.End > end)
            {
                remainders.Add((end, m.End));
            }
        }
    }

    /// <summary>Removes every mapping, adding their ids to <paramref name="removed"/>.</summary>
    public void Clear(List<int> removed)
    {
        foreach (Mapping m in _mappings)
        {
            removed.Add(m.Id);
        }

        _mappings.Clear();
    }

    private int FirstEndingAfter(ulong address)
    {
        int low = 0;
        int high = _mappings.Count;
        while (low < high)
        {
            int mid = (low + high) >>> 1;
            if (_mappings[mid].End <= address)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }
}
