namespace IntervalNotifier.Benchmarks.Common;

/// <summary>Seeded interval sets and queries shared by the suites.</summary>
public static class Workloads
{
    /// <summary>Address units per interval: random intervals of 1–32 units start anywhere in [0, n × Spacing).</summary>
    public const ulong Spacing = 64;

    /// <summary>n random small intervals (length 1–32), seeded.</summary>
    public static (ulong Start, ulong Last, int Id)[] RandomSmall(int n, int seed = 42)
    {
        var random = new Random(seed);
        var result = new (ulong, ulong, int)[n];
        ulong space = (ulong)n * Spacing;
        for (int i = 0; i < n; i++)
        {
            ulong start = (ulong)random.NextInt64((long)space);
            result[i] = (start, start + (ulong)random.Next(0, 32), i);
        }

        return result;
    }

    /// <summary>
    /// <paramref name="count"/> random small intervals (length 1–32) anywhere in the space of an
    /// n-interval set, numbered from <paramref name="firstId"/>: the extra elements that mutation
    /// benchmarks insert and remove.
    /// </summary>
    public static (ulong Start, ulong Last, int Id)[] Extra(int n, int count, int firstId, int seed = 99)
    {
        var random = new Random(seed);
        ulong space = (ulong)n * Spacing;
        var result = new (ulong, ulong, int)[count];
        for (int i = 0; i < count; i++)
        {
            ulong start = (ulong)random.NextInt64((long)space);
            result[i] = (start, start + (ulong)random.Next(0, 32), firstId + i);
        }

        return result;
    }

    /// <summary>
    /// Heavy nesting: n random small intervals, plus a few huge ones (each covering a large
    /// share of the space) that every query overlaps.
    /// </summary>
    public static (ulong Start, ulong Last, int Id)[] Nested(int n, int seed = 43)
    {
        var small = RandomSmall(n - 8, seed);
        ulong space = (ulong)n * Spacing;
        var huge = Enumerable.Range(0, 8).Select(i => ((ulong)i * (space / 64), space - ((ulong)i * (space / 64)), n - 8 + i));
        return [.. small, .. huge];
    }

    /// <summary>Random query ranges of <paramref name="width"/> units, seeded.</summary>
    public static (ulong Start, ulong Last)[] Queries(int n, int count, ulong width, int seed = 44)
    {
        var random = new Random(seed);
        ulong space = (ulong)n * Spacing;
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            ulong start = (ulong)random.NextInt64((long)space);
            return (start, start + width - 1);
        })];
    }
}
