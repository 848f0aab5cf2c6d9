#pragma warning disable CA1305
using System.Diagnostics;
using IntervalNotifier.Collections;

namespace IntervalNotifier.Benchmarks.B3_IntervalTree;

/// <summary>TEMPORARY: query variants interleaved in one process, best of several rounds (robust to a loaded machine).</summary>
public static class QueryProbe
{
    public static void Run(string[] args)
    {
        int[] variants = [.. args[0].Split(',').Select(int.Parse)];
        int[] sizes = args.Length > 1 ? [.. args[1].Split(',').Select(int.Parse)] : [100_000, 1_000_000];
        int rounds = args.Length > 2 ? int.Parse(args[2]) : 15;
        foreach (int n in sizes)
        {
            foreach (IntervalTreeBenchmarks.Dataset data in new[] { IntervalTreeBenchmarks.Dataset.RandomSmall, IntervalTreeBenchmarks.Dataset.Nested })
            {
                var intervals = data == IntervalTreeBenchmarks.Dataset.RandomSmall ? Workloads.RandomSmall(n) : Workloads.Nested(n);
                var queries = Workloads.Queries(n, IntervalTreeBenchmarks.QueryCount, 16);
                var tree = new IntervalTree<object>();
                var value = new object();
                foreach ((ulong s, ulong l, int _) in intervals)
                {
                    tree.Insert(s, l, value);
                }

                var sorted = new SortedArrayIntervals(intervals);
                int reps = data == IntervalTreeBenchmarks.Dataset.Nested ? 1 : 8;
                int sortedReps = data == IntervalTreeBenchmarks.Dataset.Nested ? 0 : 8;
                var best = new double[variants.Length + 1];
                Array.Fill(best, double.MaxValue);
                long check = 0;
                for (int round = 0; round < rounds; round++)
                {
                    for (int v = 0; v <= variants.Length; v++)
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        int total;
                        if (v == variants.Length)
                        {
                            if (sortedReps == 0)
                            {
                                continue;
                            }

                            total = sortedReps * queries.Length;
                            for (int r = 0; r < sortedReps; r++)
                            {
                                foreach ((ulong s, ulong l) in queries)
                                {
                                    check += sorted.CountOverlapping(s, l);
                                }
                            }
                        }
                        else
                        {
                            IntervalTreeExperiment.Variant = variants[v];
                            total = reps * queries.Length;
                            for (int r = 0; r < reps; r++)
                            {
                                foreach ((ulong s, ulong l) in queries)
                                {
                                    foreach (object _ in tree.Overlapping(s, l))
                                    {
                                        check++;
                                    }
                                }
                            }
                        }

                        double ns = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / total;
                        best[v] = Math.Min(best[v], ns);
                    }
                }

                string line = $"n={n,8} {data,-12}";
                for (int v = 0; v < variants.Length; v++)
                {
                    line += $"  v{variants[v]}={best[v],7:F1}";
                }

                line += sortedReps == 0 ? "" : $"  sorted={best[^1],7:F1}";
                Console.WriteLine(line + $"  (check {check})");
            }
        }
    }
}
