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
                        invalidators); async | async-here: N asynchronous protocol-only devices whose finishes
                        are pending until a second thread (async) or the invalidating thread after the begin
                        (async-here) completes them, begun with BeginInvalidationAsync; async-own: as async, with records of the
                        devices' own (no pool); hit0 | hit1: 1,000 random small subscriptions, 4,096 whole-space ranges
                        hitting 0 or 1 of them (the fixed-cost suite's); tree:random:N | tree:nested:N: B3's overlap
                        query on the index alone (IntervalTree<T>, N intervals, 16,384 whole-space ranges);
                        tree-mutate:random:N | tree-mutate:nested:N: B3's mutate (insert, query, remove, query);
                        avl:…, avl-mutate:…, sorted:…: the same on B3's baselines (the old AVL tree, the sorted
                        array), to set against the tree in one process (e.g. tree:random:1000|sorted:random:1000).
                        MODE_A|MODE_B runs a different mode per side (e.g. own|pooled in one build). Default: pooled
          --devices     N or N_A|N_B (a slope: e.g. --mode async --devices 1|64), default 64
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
        int[] devices = [64, 64];
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
                    devices = value.Split('|') is [var da, var db]
                        ? [int.Parse(da, CultureInfo.InvariantCulture), int.Parse(db, CultureInfo.InvariantCulture)]
                        : [int.Parse(value, CultureInfo.InvariantCulture), int.Parse(value, CultureInfo.InvariantCulture)];
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
            workload.GetMethod(nameof(PairedWorkload.Setup), BindingFlags.Static | BindingFlags.NonPublic)!.Invoke(null, [modes[k], devices[k]]);
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
        string what = modes[0] is "hit0" or "hit1" ? "1,000 subscriptions" : modes[0].StartsWith("tree", StringComparison.Ordinal) ? "index alone" : devices[0] == devices[1] ? $"{devices[0]} devices" : $"{devices[0]} | {devices[1]} devices";
        Console.WriteLine($"{modes[0]} | {modes[1]}, {what}, {ratios.Count} slice pairs of {SliceInvalidations} invalidations (or queries)");
        Console.WriteLine($"  A {Describe(slices[0], "F1")} ns   ({args[0]})");
        Console.WriteLine($"  B {Describe(slices[1], "F1")} ns   ({args[1]})");
        Console.WriteLine($"  paired B / A: {Describe(ratios, "F3")}");
        if (devices[0] != devices[1])
        {
            double slope = (Quantile(slices[1], 0.5) - Quantile(slices[0], 0.5)) / (devices[1] - devices[0]);
            double firstQuartileSlope = (Quantile(slices[1], 0.25) - Quantile(slices[0], 0.25)) / (devices[1] - devices[0]);
            Console.WriteLine($"  slope (B - A) / (N_B - N_A): {slope.ToString("F1", CultureInfo.InvariantCulture)} ns per device (first quartiles: {firstQuartileSlope.ToString("F1", CultureInfo.InvariantCulture)})");
        }

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
    private static Func<int, long>? s_runIndex;
    private static (ulong Start, ulong Last)[] s_indexQueries = [];
    private static int s_next;
    private static bool s_mutate;
    private static FinishCompleter? s_completer;
    private static bool s_completeHere;

    // One of B3's indexes behind RunIndex's loop. The implementations are structs, so that the
    // loop is compiled for each and calls none of them through the interface.
    private interface IPairedIndex
    {
        long Query(ulong start, ulong last);

        // Inserts extra interval `extra`, queries, removes it; the hits.
        long Mutate(int extra, ulong start, ulong last);
    }

    internal static void Setup(string mode, int devices)
    {
        var space = new AddressSpace();
        if (mode.Split(':') is [var kind and ("tree" or "tree-mutate" or "avl" or "avl-mutate" or "sorted"), var dataset, var size])
        {
            s_mutate = kind.EndsWith("-mutate", StringComparison.Ordinal);
            int n = int.Parse(size, CultureInfo.InvariantCulture);
            (ulong Start, ulong Last, int Id)[] intervals = dataset == "nested" ? Workloads.Nested(n) : Workloads.RandomSmall(n);
            (ulong Start, ulong Last, int Id)[] extra = Workloads.Extra(n, 16_384, n);
            s_indexQueries = Workloads.Queries(n, 16_384, 16);
            if (kind.StartsWith("avl", StringComparison.Ordinal))
            {
                var avl = new AvlIntervalTree<IntervalTreeBenchmarks.AvlNode>();
                foreach ((ulong start, ulong last, int id) in intervals)
                {
                    avl.Insert(new IntervalTreeBenchmarks.AvlNode(start, last, id));
                }

                var index = new AvlIndex(avl, [.. extra.Select(e => new IntervalTreeBenchmarks.AvlNode(e.Start, e.Last, e.Id))]);
                s_runIndex = count => RunIndex(index, count);
            }
            else if (kind == "sorted")
            {
                var index = new SortedIndex(new SortedArrayIntervals(intervals));
                s_runIndex = count => RunIndex(index, count);
            }
            else
            {
                var tree = new IntervalTree<object>();
                foreach ((ulong start, ulong last, int _) in intervals)
                {
                    tree.Insert(start, last, new object());
                }

                var index = new TreeIndex(tree, extra);
                s_runIndex = count => RunIndex(index, count);
            }

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
        else if (mode is "async" or "async-here" or "async-own")
        {
            FinishRecordPool<PendingFinishRecord>? pool = mode == "async-own" ? null : new FinishRecordPool<PendingFinishRecord>(devices);
            s_completer = new FinishCompleter(devices);
            s_completeHere = mode == "async-here";
            for (int i = 0; i < devices; i++)
            {
                space.Subscribe(0, 4096, new PendingAsyncInvalidator(pool, s_completer));
            }

            s_queries = [new InvalidationRange(0, 4096)];
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
        if (s_runIndex is { } runIndex)
        {
            return runIndex(count);
        }

        if (s_completer is { } completer)
        {
            return RunAsync(completer, count);
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

    // `count` asynchronous invalidations (begin, completion of every finish, end): the finishes
    // are completed by the completer's thread once the begin has returned, or by this thread.
    private static long RunAsync(FinishCompleter completer, int count)
    {
        AddressSpace space = s_space!;
        InvalidationRange range = s_queries[0];
        completer.Awake = !s_completeHere;
        long started = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            ValueTask<InvalidationScope> begin = space.BeginInvalidationAsync(range);
            if (s_completeHere)
            {
                completer.CompleteHere();
            }
            else
            {
                completer.ReleaseAndWait();
            }

            // Completed: its last finish concluded it.
            (begin.IsCompleted ? begin.Result : throw new InvalidOperationException("the begin has not completed")).Dispose();
        }

        long elapsed = Stopwatch.GetTimestamp() - started;
        completer.Awake = false;
        return elapsed;
    }

    // `count` overlap queries on an index alone (B3's query, or with s_mutate its mutate),
    // cycling through the ranges.
    private static long RunIndex<TIndex>(TIndex index, int count)
        where TIndex : struct, IPairedIndex
    {
        (ulong Start, ulong Last)[] queries = s_indexQueries;
        int next = s_next;
        bool mutate = s_mutate;
        long hits = 0;
        long started = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            (ulong start, ulong last) = queries[next];
            if (mutate)
            {
                hits += index.Mutate(next, start, last);
            }

            hits += index.Query(start, last);
            next = (next + 1) & (queries.Length - 1);
        }

        long elapsed = Stopwatch.GetTimestamp() - started;
        s_next = next;
        GC.KeepAlive(hits);
        return elapsed;
    }

    private readonly struct TreeIndex(IntervalTree<object> tree, (ulong Start, ulong Last, int Id)[] extra) : IPairedIndex
    {
        private static readonly object Payload = new();

        public long Query(ulong start, ulong last)
        {
            long hits = 0;
            foreach (object _ in tree.Overlapping(start, last))
            {
                hits++;
            }

            return hits;
        }

        public long Mutate(int extraIndex, ulong start, ulong last)
        {
            IntervalTreeHandle handle = tree.Insert(extra[extraIndex].Start, extra[extraIndex].Last, Payload);
            long hits = Query(start, last);
            tree.Remove(handle);
            return hits;
        }
    }

    private readonly struct AvlIndex(AvlIntervalTree<IntervalTreeBenchmarks.AvlNode> avl, IntervalTreeBenchmarks.AvlNode[] extra) : IPairedIndex
    {
        public long Query(ulong start, ulong last)
        {
            long hits = 0;
            foreach (IntervalTreeBenchmarks.AvlNode _ in avl.Overlapping(start, last))
            {
                hits++;
            }

            return hits;
        }

        public long Mutate(int extraIndex, ulong start, ulong last)
        {
            avl.Insert(extra[extraIndex]);
            long hits = Query(start, last);
            avl.Remove(extra[extraIndex]);
            return hits;
        }
    }

    // The sorted array's mutations are O(n) (B3 measures them in BenchmarkDotNet); here, queries only.
    private readonly struct SortedIndex(SortedArrayIntervals sorted) : IPairedIndex
    {
        public long Query(ulong start, ulong last) => sorted.CountOverlapping(start, last);

        public long Mutate(int extraIndex, ulong start, ulong last) => throw new NotSupportedException("sorted-mutate is not a paired mode");
    }
}
