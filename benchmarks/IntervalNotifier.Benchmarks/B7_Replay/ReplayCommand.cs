using System.Diagnostics;
using System.Globalization;

namespace IntervalNotifier.Benchmarks.B7_Replay;

/// <summary>
/// <c>replay [options] TRACE…</c>: B7. Each trace (strace output, <c>.gz</c> accepted) is parsed,
/// planned once, and replayed over the library and over each baseline in the same run.
/// </summary>
public static class ReplayCommand
{
    public const string Usage = """
        usage: replay [options] TRACE...
          Replays the memory-map changes of each TRACE (the output of
          strace -f -tt -e trace=mmap,munmap,mprotect,madvise,mremap,brk -o TRACE PROGRAM,
          optionally gzipped) as a device mirror of the traced processes would see them, over
          the library's AddressSpace and over the baselines, and prints one table.
        options:
          --readers N     fault-handler threads running the §3 fault path meanwhile (default 1)
          --repeat N      measured replays per address space, after 2 s of warm-up replays;
                          each step's fastest time counts (default 5)
          --quick         CI smoke: one warm-up and one measured replay of each trace
                          (figures not meant for publishing)
          --max-calls N   replay only the first N calls of each trace
          --check         exit 1 if any page went stale or any line could not be read
          --out DIR       also write b7.md (the table) and b7.png (a plot) to DIR
        """;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The address spaces compared, the library first.</summary>
    public static readonly (string Name, Func<IReplaySpace> Create)[] Spaces =
    [
        ("AddressSpace", () => new LibraryReplaySpace()),
        ("AVL tree", () => new AvlReplaySpace()),
        ("sorted array", () => new SortedArrayReplaySpace()),
        ("locked list", () => new ListReplaySpace()),
    ];

    public static int Run(string[] args)
    {
        int readers = 1, repeat = 5, maxCalls = int.MaxValue;
        bool check = false, quick = false;
        var warmUp = TimeSpan.FromSeconds(2);
        string? outDirectory = null;
        var files = new List<string>();
        try
        {
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--help" or "-h":
                        Console.WriteLine(Usage);
                        return 0;
                    case "--readers":
                        readers = int.Parse(Value(args, ++i), Inv);
                        break;
                    case "--repeat":
                        repeat = Math.Max(1, int.Parse(Value(args, ++i), Inv));
                        break;
                    case "--max-calls":
                        maxCalls = Math.Max(1, int.Parse(Value(args, ++i), Inv));
                        break;
                    case "--quick":
                        (repeat, warmUp, quick) = (1, TimeSpan.Zero, true);
                        break;
                    case "--check":
                        check = true;
                        break;
                    case "--out":
                        outDirectory = Value(args, ++i);
                        break;
                    case { } option when option.StartsWith("--", StringComparison.Ordinal):
                        throw new ArgumentException($"unknown option {option}");
                    default:
                        files.Add(args[i]);
                        break;
                }
            }

            if (files.Count == 0)
            {
                throw new ArgumentException("no trace given");
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var traces = new List<TraceResult>();
        int status = 0;
        foreach (string file in files)
        {
            TraceResult? trace = ReplayTrace(file, readers, repeat, maxCalls, warmUp);
            if (trace is null)
            {
                status = 2;
                continue;
            }

            traces.Add(trace);
            if (check && (trace.ProblemCount > 0 || trace.Results.Any(r => r.Stale > 0)))
            {
                status = Math.Max(status, 1);
            }
        }

        if (traces.Count == 0)
        {
            return status;
        }

        string table = ReplayReport.Table(traces, readers, repeat);
        Console.WriteLine();
        Console.Write(table);
        Console.WriteLine();
        Console.WriteLine(ReplayReport.Verdict(traces));
        if (quick)
        {
            Console.WriteLine("(--quick: one replay, mostly of code the JIT has not optimized yet; the times are not for comparing.)");
        }
        if (outDirectory is not null)
        {
            Directory.CreateDirectory(outDirectory);
            File.WriteAllText(Path.Combine(outDirectory, "b7.md"), table);
            ReplayReport.Plot(traces, Path.Combine(outDirectory, "b7.png"));
            Console.WriteLine($"Wrote b7.md and b7.png to {Path.GetFullPath(outDirectory)}.");
        }

        if (status == 1)
        {
            Console.Error.WriteLine("replay --check failed: a page went stale or a trace line could not be read (see above).");
        }

        return status;
    }

    private static TraceResult? ReplayTrace(string file, int readers, int repeat, int maxCalls, TimeSpan warmUp)
    {
        string name = Path.GetFileName(file);
        StraceParser parser;
        try
        {
            parser = StraceParser.ParseFile(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            Console.Error.WriteLine($"error: {file}: {e.Message}");
            return null;
        }

        foreach (string problem in parser.Problems)
        {
            Console.Error.WriteLine($"{name}: {problem} (skipped)");
        }

        if (parser.ProblemCount > parser.Problems.Count)
        {
            Console.Error.WriteLine($"{name}: … and {parser.ProblemCount - parser.Problems.Count} more lines skipped");
        }

        if (parser.Calls.Count == 0)
        {
            Console.Error.WriteLine($"error: {file}: no mmap, munmap, mprotect, madvise, mremap or brk call in {parser.Lines} lines — record it with " +
                "strace -f -tt -e trace=mmap,munmap,mprotect,madvise,mremap,brk -o FILE PROGRAM");
            return null;
        }

        ReplayPlan plan = ReplayPlanner.Plan(parser.Calls.Take(maxCalls));
        Console.WriteLine($"{name}: {plan.Events:N0} calls in {plan.ProcessCount} process{(plan.ProcessCount == 1 ? "" : "es")}, {plan.Invalidations:N0} invalidations, {plan.Subscribes:N0} subscribes; replaying…");

        // Warm-up replays (the JIT's tiers, the first growth of every array): at least one of
        // each, interleaved for warmUp, so that none of them is measured before the JIT has
        // settled more than another; then the measured replays, interleaved too, so that a
        // slower stretch of the machine hits them all.
        var measured = new List<ReplayRun>[Spaces.Length];
        var published = new long[Spaces.Length];
        var kept = new long[Spaces.Length];
        long started = Stopwatch.GetTimestamp();
        do
        {
            for (int s = 0; s < Spaces.Length; s++)
            {
                measured[s] ??= [];
                Record(s, ReplayRunner.Run(plan, Spaces[s].Create, readers));
            }
        }
        while (Stopwatch.GetElapsedTime(started) < warmUp);

        for (int pass = 0; pass < repeat; pass++)
        {
            for (int s = 0; s < Spaces.Length; s++)
            {
                ReplayRun run = ReplayRunner.Run(plan, Spaces[s].Create, readers);
                Record(s, run);
                measured[s].Add(run);
            }
        }

        void Record(int s, ReplayRun run)
        {
            published[s] += run.StalePublished;
            kept[s] += run.StaleKept;
            if (run.Stale > 0)
            {
                Console.Error.WriteLine($"{name}: {Spaces[s].Name}: {run.StalePublished} stale pages published, {run.StaleKept} kept");
            }
        }

        ReplayResult[] results = [.. Spaces.Select((space, s) => ReplayResult.From(space.Name, plan, measured[s], published[s], kept[s]))];
        return new TraceResult(name, plan, parser.ProblemCount, parser.FailedCalls, results);
    }

    private static string Value(string[] args, int i) =>
        i < args.Length ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value");
}

/// <summary>One trace's replay: its plan, what the parser skipped, the best replay of each address space.</summary>
public sealed record TraceResult(string Name, ReplayPlan Plan, int ProblemCount, int FailedCalls, IReadOnlyList<ReplayResult> Results);
