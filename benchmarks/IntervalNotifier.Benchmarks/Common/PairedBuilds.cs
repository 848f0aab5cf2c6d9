using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;
using IntervalNotifier.Benchmarks.B2_Walk;
using IntervalNotifier.Benchmarks.B3_IntervalTree;
using IntervalNotifier.Benchmarks.Baselines;
using IntervalNotifier.Collections;

namespace IntervalNotifier.Benchmarks.Common;

/// <summary>
/// <c>paired DIR_A DIR_B [options]</c>: two builds of the library (two directories, each holding an
/// <c>IntervalNotifier.dll</c>) measured side by side in one process, for a before/after ratio
/// that this shared machine's noise does not swamp. Each build is loaded into an
/// <see cref="AssemblyLoadContext"/> of its own, together with a copy of this assembly (so each
/// runs the same workload code against its own library); 200-invalidation slices alternate
/// between them (who goes first alternating too), and the report gives each build's median and
/// quartiles and the median of the paired per-slice ratios B / A. An A/A run (the same directory
/// twice) shows the method's own scatter.
/// </summary>
internal static class PairedBuilds
{
    private const string Usage = """
        usage: paired DIR_A DIR_B [--mode MODE[|MODE_B]] [--devices N] [--seconds S]

          DIR_A, DIR_B  directories holding an IntervalNotifier.dll (e.g. src/IntervalNotifier/bin/Release/net10.0
                        of two worktrees); the same directory twice is an A/A run
          --mode        single | own | pooled | floor: N protocol-only devices on one range (the per-device suite's
                        invalidators); hit0 | hit1: 1,000 random small subscriptions, 4,096 whole-space ranges
                        hitting 0 or 1 of them (the fixed-cost suite's); tree:random:N | tree:nested:N: B3's overlap
                        query on the index alone (IntervalTree<T>, N intervals, 16,384 whole-space ranges);
                        tree-mutate:random:N | tree-mutate:nested:N: B3's mutate (insert, query, remove, query);
                        avl:…, avl-mutate:…, sorted:…: the same on B3's baselines (the old AVL tree, the sorted
                        array), to set against the tree in one process (e.g. tree:random:1000|sorted:random:1000).
                        MODE_A|MODE_B runs a different mode per side (e.g. own|pooled in one build). Default: pooled
          --devices     N, default 64
          --seconds     how long to alternate, default 12
        """;

    private const int SliceInvalidations = 200;

    public static int Run(string[] args)
    {
        if (args.Length < 2 || args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(Usage);
            return args.Length < 2 ? 2 : 0;
        }

        string[] modes = ["pooled", "pooled"];
        int devices = 64;
        double seconds = 12;
        for (int i = 2; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
            {
                Console.Error.WriteLine($"error: {args[i]} needs a value");
                return 2;
            }

            string value = args[i + 1];
            switch (args[i])
            {
                case "--mode":
                    modes = value.Split('|') is [var a, var b] ? [a, b] : [value, value];
                    break;
                case "--devices":
                    devices = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "--seconds":
                    seconds = double.Parse(value, CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine($"error: unknown option {args[i]}");
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }

        var runs = new Func<int, long>[2];
        for (int k = 0; k < 2; k++)
        {
            string dir = Path.GetFullPath(args[k]);
            if (!File.Exists(Path.Combine(dir, "IntervalNotifier.dll")))
            {
                Console.Error.WriteLine($"error: {dir} holds no IntervalNotifier.dll");
                return 2;
            }

            Assembly copy = new BuildContext(dir).LoadFromAssemblyPath(typeof(PairedBuilds).Assembly.Location);
            Type workload = copy.GetType(typeof(PairedWorkload).FullName!, throwOnError: true)!;
            workload.GetMethod(nameof(PairedWorkload.Setup), BindingFlags.Static | BindingFlags.NonPublic)!.Invoke(null, [modes[k], devices]);
            runs[k] = workload.GetMethod(nameof(PairedWorkload.Run), BindingFlags.Static | BindingFlags.NonPublic)!.CreateDelegate<Func<int, long>>();
        }

        for (int warm = 0; warm < 300; warm++)
        {
            runs[0](SliceInvalidations);
            runs[1](SliceInvalidations);
        }

        var slices = new List<double>[] { [], [] };
        var ratios = new List<double>();
        double[] ns = new double[2];
        var clock = Stopwatch.StartNew();
        for (int round = 0; clock.Elapsed.TotalSeconds < seconds; round++)
        {
            for (int k = 0; k < 2; k++)
            {
                int side = (round & 1) == 0 ? k : 1 - k;
                ns[side] = runs[side](SliceInvalidations) * 1e9 / Stopwatch.Frequency / SliceInvalidations;
                slices[side].Add(ns[side]);
            }

            ratios.Add(ns[1] / ns[0]);
        }

        slices[0].Sort();
        slices[1].Sort();
        ratios.Sort();
        string what = modes[0] is "hit0" or "hit1" ? "1,000 subscriptions" : modes[0].StartsWith("tree", StringComparison.Ordinal) ? "index alone" : $"{devices} devices";
        Console.WriteLine($"{modes[0]} | {modes[1]}, {what}, {ratios.Count} slice pairs of {SliceInvalidations} invalidations (or queries)");
        Console.WriteLine($"  A {Describe(slices[0], "F1")} ns   ({args[0]})");
        Console.WriteLine($"  B {Describe(slices[1], "F1")} ns   ({args[1]})");
        Console.WriteLine($"  paired B / A: {Describe(ratios, "F3")}");
        return 0;
    }

    private static string Describe(List<double> sorted, string format) =>
        $"median {Quantile(sorted, 0.5).ToString(format, CultureInfo.InvariantCulture)} (quartiles {Quantile(sorted, 0.25).ToString(format, CultureInfo.InvariantCulture)}–{Quantile(sorted, 0.75).ToString(format, CultureInfo.InvariantCulture)})";

    private static double Quantile(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * q))];

    // One build: its IntervalNotifier.dll and a copy of this assembly; everything else (the
    // runtime, BenchmarkDotNet, Microsoft.Extensions.ObjectPool) comes from the default context.
    private sealed class BuildContext(string dir) : AssemblyLoadContext($"build {dir}")
    {
        protected override Assembly? Load(AssemblyName name) =>
            name.Name == "IntervalNotifier" ? LoadFromAssemblyPath(Path.Combine(dir, "IntervalNotifier.dll")) : null;
    }
}

/// <summary>The workload of <see cref="PairedBuilds"/>; each build's context has its own copy of it.</summary>
internal static class PairedWorkload
{
    private const int QueryCount = 4096;
    private static AddressSpace? s_space;
    private static InvalidationRange[] s_queries = [];
    private static IntervalTree<object>? s_tree;
    private static (ulong Start, ulong Last)[] s_treeQueries = [];
    private static int s_next;
    private static bool s_mutate;
    private static (ulong Start, ulong Last, int Id)[] s_extra = [];
    private static readonly object s_payload = new();
    private static bool s_isIndex;
    private static AvlIntervalTree<IntervalTreeBenchmarks.AvlNode>? s_avl;
    private static IntervalTreeBenchmarks.AvlNode[] s_avlExtra = [];
    private static SortedArrayIntervals? s_sorted;

    internal static void Setup(string mode, int devices)
    {
        var space = new AddressSpace();
        if (mode.Split(':') is [var index and ("tree" or "tree-mutate" or "avl" or "avl-mutate" or "sorted"), var dataset, var size])
        {
            s_mutate = index.EndsWith("-mutate", StringComparison.Ordinal);
            int n = int.Parse(size, CultureInfo.InvariantCulture);
            (ulong Start, ulong Last, int Id)[] intervals = dataset == "nested" ? Workloads.Nested(n) : Workloads.RandomSmall(n);
            if (index.StartsWith("avl", StringComparison.Ordinal))
            {
                var avl = new AvlIntervalTree<IntervalTreeBenchmarks.AvlNode>();
                foreach ((ulong start, ulong last, int id) in intervals)
                {
                    avl.Insert(new IntervalTreeBenchmarks.AvlNode(start, last, id));
                }

                s_avl = avl;
                s_avlExtra = [.. Workloads.Extra(n, 16_384, n).Select(e => new IntervalTreeBenchmarks.AvlNode(e.Start, e.Last, e.Id))];
            }
            else if (index == "sorted")
            {
                s_sorted = new SortedArrayIntervals(intervals);
            }
            else
            {
                var tree = new IntervalTree<object>();
                foreach ((ulong start, ulong last, int _) in intervals)
                {
                    tree.Insert(start, last, new object());
                }

                s_tree = tree;
            }

            s_treeQueries = Workloads.Queries(n, 16_384, 16);
            s_extra = Workloads.Extra(n, 16_384, n);
            s_isIndex = true;
            return;
        }

        if (mode is "hit0" or "hit1")
        {
            (ulong Start, ulong Last, int Id)[] intervals = Workloads.RandomSmall(1_000);
            s_queries = WalkBenchmarks.QueriesHitting(new SortedArrayIntervals(intervals), mode == "hit1" ? 1 : 0, 1_000, QueryCount);
            var setSequence = new SetSequenceInvalidator();
            foreach ((ulong start, ulong last, int _) in intervals)
            {
                space.SubscribeInclusive(start, last, setSequence);
            }
        }
        else
        {
            var pool = new FinishRecordPool<FinishRecord>(devices);
            for (int i = 0; i < devices; i++)
            {
                space.Subscribe(0, 4096, mode switch
                {
                    "single" => new SetSequenceInvalidator(),
                    "own" => new EmbeddedTwoPassInvalidator(),
                    "pooled" => new PooledTwoPassInvalidator(pool),
                    "floor" => new TwoCasInvalidator(),
                    _ => throw new ArgumentException($"unknown mode {mode}"),
                });
            }

            s_queries = [new InvalidationRange(0, 4096)];
        }

        s_space = space;
    }

    // `count` invalidations (begin + end); the elapsed Stopwatch ticks.
    internal static long Run(int count)
    {
        if (s_isIndex)
        {
            return s_tree is { } tree ? RunQueries(tree, count) : RunBaselineQueries(count);
        }

        AddressSpace space = s_space!;
        InvalidationRange[] queries = s_queries;
        int mask = queries.Length == 1 ? 0 : QueryCount - 1;
        long started = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            space.BeginInvalidation(in queries[i & mask]).Dispose();
        }

        return Stopwatch.GetTimestamp() - started;
    }

    // `count` overlap queries on the index alone (B3's query), cycling through the ranges.
    private static long RunQueries(IntervalTree<object> tree, int count)
    {
        (ulong Start, ulong Last)[] queries = s_treeQueries;
        int next = s_next;
        long hits = 0;
        long started = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            (ulong start, ulong last) = queries[next];
            if (s_mutate)
            {
                (ulong xs, ulong xl, int _) = s_extra[next];
                IntervalTreeHandle handle = tree.Insert(xs, xl, s_payload);
                foreach (object _ in tree.Overlapping(start, last))
                {
                    hits++;
                }

                tree.Remove(handle);
            }

            next = (next + 1) & (queries.Length - 1);
            foreach (object _ in tree.Overlapping(start, last))
            {
                hits++;
            }
        }

        long elapsed = Stopwatch.GetTimestamp() - started;
        s_next = next;
        GC.KeepAlive(hits);
        return elapsed;
    }

    // The same on B3's baselines: the old AVL tree (query or mutate) or the sorted array (query).
    private static long RunBaselineQueries(int count)
    {
        (ulong Start, ulong Last)[] queries = s_treeQueries;
        int next = s_next;
        long hits = 0;
        long started = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            (ulong start, ulong last) = queries[next];
            if (s_avl is { } avl)
            {
                if (s_mutate)
                {
                    avl.Insert(s_avlExtra[next]);
                    foreach (IntervalTreeBenchmarks.AvlNode _ in avl.Overlapping(start, last))
                    {
                        hits++;
                    }

                    avl.Remove(s_avlExtra[next]);
                }

                foreach (IntervalTreeBenchmarks.AvlNode _ in avl.Overlapping(start, last))
                {
                    hits++;
                }
            }
            else
            {
                hits += s_sorted!.CountOverlapping(start, last);
            }

            next = (next + 1) & (queries.Length - 1);
        }

        long elapsed = Stopwatch.GetTimestamp() - started;
        s_next = next;
        GC.KeepAlive(hits);
        return elapsed;
    }
}
