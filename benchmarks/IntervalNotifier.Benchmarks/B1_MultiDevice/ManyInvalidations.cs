using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace IntervalNotifier.Benchmarks.B1_MultiDevice;

/// <summary>One mode of the many-at-once run.</summary>
/// <param name="Mode">What ran.</param>
/// <param name="WallMicros">From the first begin to the last completion (and its end), in µs.</param>
/// <param name="IssueMicros">How long issuing every begin took (async: the begins' calls; sync: the Task.Run calls), in µs.</param>
/// <param name="PoolThreadsBefore">ThreadPool.ThreadCount when the run started.</param>
/// <param name="PeakPoolThreads">The largest ThreadPool.ThreadCount sampled during the run.</param>
/// <param name="WorkThreads">The distinct threads that ran invalidation work (begins, start passes, finishes, completions).</param>
/// <param name="Completed">Invalidations that completed.</param>
/// <param name="Count">Invalidations issued.</param>
/// <param name="HitCap">Whether the run was stopped by the timeout (then <paramref name="WallMicros"/> is the cap).</param>
/// <param name="BytesPerInvalidation">Bytes allocated during the run (all threads), per invalidation.</param>
/// <param name="MeanInvalidationMicros">The mean time one invalidation took from its own begin to its own end, in µs.</param>
/// <param name="Runs">The asynchronous mode's wall times of every run (the median is reported), in µs; empty for the synchronous one.</param>
public sealed record ManyModeResult(
    string Mode, double WallMicros, double IssueMicros, int PoolThreadsBefore, int PeakPoolThreads, int WorkThreads,
    int Completed, int Count, bool HitCap, double BytesPerInvalidation, double MeanInvalidationMicros, IReadOnlyList<double> Runs);

/// <summary>The many-at-once results.</summary>
public sealed record ManyResult(int Count, int DevicesPerRange, double LatencyMicros, WaitMode SyncWait, TimeSpan Timeout, ManyModeResult Async, ManyModeResult Sync, string ClockNote);

/// <summary>
/// B1's many invalidations at once: C concurrent invalidations over disjoint ranges of one
/// address space, each range subscribed by D asynchronous devices of latency L. (a) From ONE
/// thread, <c>BeginInvalidationAsync</c> for all C ranges (each start pass schedules D deadlines
/// with the device clock), then spin until every begin has completed, ending each scope as its
/// begin completes. (b) The synchronous <c>BeginInvalidation</c> from C thread-pool tasks over
/// devices whose finish blocks its thread until the deadline. The asynchronous begin should be
/// L-bound (≈ L plus the time to issue C begins); the synchronous one is thread-bound.
/// </summary>
public static class ManyInvalidations
{
    private const ulong Stride = 1 << 20;
    private const ulong RangeLength = 1 << 16;

    public static ManyResult Run(MultiDeviceOptions options, TextWriter progress)
    {
        int count = options.ManyCount;
        int devices = options.ManyDevices;
        long latencyTicks = (long)(options.ManyLatencyMicros * Stopwatch.Frequency / 1_000_000);
        InvalidationRange[] ranges = [.. Enumerable.Range(0, count).Select(i => new InvalidationRange((ulong)i * Stride, ((ulong)i * Stride) + RangeLength))];

        ManyModeResult asyncResult;
        string clockNote;
        using (var clock = new DeadlineSignaller(count * devices, options.ClockIdleSpin))
        using (var space = new AddressSpace(new AddressSpaceOptions { Name = "many-async" }))
        {
            var pool = new FinishRecordPool<AsyncFlushRecord>(count * devices);
            var consumers = new ThreadSet();
            for (int i = 0; i < count; i++)
            {
                for (int d = 0; d < devices; d++)
                {
                    space.Subscribe(ranges[i].Start, RangeLength, new AsyncDevice(latencyTicks, pool, clock, consumers));
                }
            }

            progress.Write($"  async: {count} × BeginInvalidationAsync from one thread, {options.ManyRepeats} runs after a warm-up … ");
            // Not a cap on the measurement (the begins cannot be abandoned): a guard against a hang.
            TimeSpan guard = options.ManyTimeout + TimeSpan.FromMicroseconds(options.ManyLatencyMicros * 10);
            _ = RunAsync(space, ranges, consumers, clock, guard); // warm-up: JIT, the pool's and the address space's caches
            var runs = new List<ManyModeResult>();
            for (int r = 0; r < options.ManyRepeats; r++)
            {
                runs.Add(RunAsync(space, ranges, consumers, clock, guard));
            }

            if (pool.Rented != 0)
            {
                throw new InvalidOperationException("A finish record was not returned to its pool.");
            }

            ManyModeResult median = runs.OrderBy(r => r.WallMicros).ElementAt(runs.Count / 2);
            asyncResult = median with { Runs = [.. runs.Select(r => r.WallMicros)] };
            clockNote = string.Create(CultureInfo.InvariantCulture,
                $"device clock (thread {clock.ThreadId}): {clock.Signalled} completions, {clock.MeanLatenessMicros:0.0} µs after their deadline on average, max {clock.MaxLatenessMicros:0} µs");
            progress.WriteLine("done");
        }

        ManyModeResult syncResult;
        using (var space = new AddressSpace(new AddressSpaceOptions { Name = "many-sync" }))
        {
            var pool = new FinishRecordPool<FlushRecord>(count * devices);
            for (int i = 0; i < count; i++)
            {
                for (int d = 0; d < devices; d++)
                {
                    space.Subscribe(ranges[i].Start, RangeLength, new TwoPassDevice(latencyTicks, options.ManyWait, pool));
                }
            }

            // Warm up on this thread only (JIT), so that the thread pool starts as it is.
            for (int i = 0; i < Math.Min(count, 8); i++)
            {
                space.BeginInvalidation(ranges[i]).Dispose();
            }

            progress.Write($"  sync: {count} × Task.Run(BeginInvalidation + Dispose), devices {options.ManyWait.ToString().ToLowerInvariant()} until the deadline (cap {options.ManyTimeout.TotalSeconds:0.#} s) … ");
            syncResult = RunSync(space, ranges, options.ManyTimeout);
            progress.WriteLine(syncResult.HitCap ? $"stopped at the cap ({syncResult.Completed} of {count} done)" : "done");
        }

        return new ManyResult(count, devices, options.ManyLatencyMicros, options.ManyWait, options.ManyTimeout, asyncResult, syncResult, clockNote);
    }

    // From this thread: every begin, then spin until each has completed, ending its scope then.
    [SuppressMessage("Reliability", "CA2012:Use ValueTasks correctly", Justification = "Each begin's task is kept until it completes, then consumed exactly once.")]
    private static ManyModeResult RunAsync(AddressSpace space, InvalidationRange[] ranges, ThreadSet consumers, DeadlineSignaller clock, TimeSpan timeout)
    {
        clock.KeepAwake(TimeSpan.FromMilliseconds(1)); // the clock's wake-up is the model's, not the library's: keep it out of the time
        int count = ranges.Length;
        var tasks = new ValueTask<InvalidationScope>[count];
        var begun = new long[count];
        int[] pending = [.. Enumerable.Range(0, count)];
        consumers.Clear();
        int poolBefore = ThreadPool.ThreadCount;
        int peak = poolBefore;
        double invalidationTicks = 0;
        long capTicks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        long bytesBefore = GC.GetTotalAllocatedBytes(precise: true);

        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            begun[i] = Stopwatch.GetTimestamp();
            tasks[i] = space.BeginInvalidationAsync(ranges[i]);
        }

        long issued = Stopwatch.GetTimestamp();
        int left = count;
        while (left > 0)
        {
            for (int k = 0; k < left;)
            {
                int i = pending[k];
                if (tasks[i].IsCompleted)
                {
                    tasks[i].GetAwaiter().GetResult().Dispose();
                    invalidationTicks += Stopwatch.GetTimestamp() - begun[i];
                    pending[k] = pending[--left];
                }
                else
                {
                    k++;
                }
            }

            peak = Math.Max(peak, ThreadPool.ThreadCount);
            _ = Thread.Yield(); // as in B1: on a busy machine the clock thread may be waiting for this core
            if (Stopwatch.GetTimestamp() - start > capTicks)
            {
                throw new TimeoutException($"{left} asynchronous begins had not completed after {timeout.TotalSeconds} s.");
            }
        }

        long end = Stopwatch.GetTimestamp();
        long bytes = GC.GetTotalAllocatedBytes(precise: true) - bytesBefore;
        var threads = new HashSet<int>(consumers.Snapshot()) { Environment.CurrentManagedThreadId };
        return new ManyModeResult(
            "async", Micros(end - start), Micros(issued - start), poolBefore, peak, threads.Count, count, count, HitCap: false,
            (double)bytes / count, Micros((long)(invalidationTicks / count)), []);
    }

    // C thread-pool tasks, each a synchronous begin + end; stopped (the tasks not yet started
    // skip their work) when the cap is reached.
    private static ManyModeResult RunSync(AddressSpace space, InvalidationRange[] ranges, TimeSpan timeout)
    {
        int count = ranges.Length;
        var tasks = new Task[count];
        var ended = new long[count];
        var took = new long[count];
        var threadIds = new int[count];
        int abandon = 0;
        int poolBefore = ThreadPool.ThreadCount;
        int peak = poolBefore;
        long capTicks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        long bytesBefore = GC.GetTotalAllocatedBytes(precise: true);

        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            int index = i;
            tasks[i] = Task.Run(() =>
            {
                if (Volatile.Read(ref abandon) != 0)
                {
                    return;
                }

                long begin = Stopwatch.GetTimestamp();
                space.BeginInvalidation(ranges[index]).Dispose();
                long now = Stopwatch.GetTimestamp();
                took[index] = now - begin;
                threadIds[index] = Environment.CurrentManagedThreadId;
                Volatile.Write(ref ended[index], now);
            });
        }

        long issued = Stopwatch.GetTimestamp();
        Task all = Task.WhenAll(tasks);
        bool hitCap = false;
        while (!all.IsCompleted)
        {
            peak = Math.Max(peak, ThreadPool.ThreadCount);
            if (Stopwatch.GetTimestamp() - start > capTicks)
            {
                hitCap = true;
                Volatile.Write(ref abandon, 1);
                break;
            }

            Thread.Sleep(1);
        }

        all.Wait(); // after the cap: the tasks not started yet return at once; the running ones end their invalidation
        peak = Math.Max(peak, ThreadPool.ThreadCount);
        long bytes = GC.GetTotalAllocatedBytes(precise: true) - bytesBefore;
        int completed = ended.Count(t => t != 0);
        long last = ended.Max();
        return new ManyModeResult(
            "sync", hitCap ? timeout.TotalMicroseconds : Micros(last - start), Micros(issued - start), poolBefore, peak,
            threadIds.Where(t => t != 0).Distinct().Count(), completed, count, hitCap, (double)bytes / count,
            completed == 0 ? 0 : Micros((long)took.Where(t => t != 0).Average()), []);
    }

    private static double Micros(long ticks) => ticks * 1e6 / Stopwatch.Frequency;

    public static string Header(MultiDeviceOptions options) => string.Create(CultureInfo.InvariantCulture,
        $"B1 — many invalidations at once: {options.ManyCount:#,0} concurrent invalidations of disjoint ranges in one address space, {options.ManyDevices} async devices per range, " +
        $"L = {options.ManyLatencyMicros:#,0.###} µs; {Environment.ProcessorCount} cores{s_loadAtStart ??= MultiDeviceReport.LoadAverage()}.");

    // The load average when the header was first made (the part's start), for many.md too.
    private static string? s_loadAtStart;

    public static string Table(ManyResult r, bool markdown)
    {
        string[] header = ["mode", "wall (ms)", "× L", "pool threads (start → peak)", "threads that ran invalidations", "one invalidation (ms, mean)", "begins issued in (ms)", "B allocated / invalidation"];
        string[][] rows = [Row(r, r.Async, $"async: BeginInvalidationAsync × {r.Count:#,0} from one thread"), Row(r, r.Sync, $"sync: BeginInvalidation in {r.Count:#,0} tasks")];
        var sb = new StringBuilder();
        if (markdown)
        {
            sb.AppendLine("| " + string.Join(" | ", header) + " |");
            sb.AppendLine("|---|" + string.Concat(header.Skip(1).Select(_ => "---:|")));
            foreach (string[] row in rows)
            {
                sb.AppendLine("| " + string.Join(" | ", row) + " |");
            }

            return sb.ToString();
        }

        int[] widths = [.. header.Select((h, i) => Math.Max(h.Length, rows.Max(row => row[i].Length)))];
        sb.AppendLine(string.Join("  ", header.Select((h, i) => i == 0 ? h.PadRight(widths[i]) : h.PadLeft(widths[i]))));
        sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (string[] row in rows)
        {
            sb.AppendLine(string.Join("  ", row.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))));
        }

        return sb.ToString();
    }

    private static string[] Row(ManyResult r, ManyModeResult m, string name) =>
    [
        name,
        (m.HitCap ? "≥ " : "") + (m.WallMicros / 1000).ToString("0.00", CultureInfo.InvariantCulture),
        (m.HitCap ? "≥ " : "") + (m.WallMicros / r.LatencyMicros).ToString("0.00", CultureInfo.InvariantCulture),
        $"{m.PoolThreadsBefore} → {m.PeakPoolThreads}",
        m.WorkThreads.ToString(CultureInfo.InvariantCulture),
        (m.MeanInvalidationMicros / 1000).ToString("0.00", CultureInfo.InvariantCulture),
        (m.IssueMicros / 1000).ToString("0.00", CultureInfo.InvariantCulture),
        m.BytesPerInvalidation.ToString("0", CultureInfo.InvariantCulture),
    ];

    public static string Verdict(ManyResult r)
    {
        ManyModeResult a = r.Async;
        ManyModeResult s = r.Sync;
        int asyncThreads = a.WorkThreads + Math.Max(0, a.PeakPoolThreads - a.PoolThreadsBefore); // pool threads that joined in count too
        bool met = a.WallMicros <= 2 * r.LatencyMicros && asyncThreads <= Environment.ProcessorCount;
        string runs = string.Join(", ", a.Runs.Select(w => (w / 1000).ToString("0.00", CultureInfo.InvariantCulture)));
        string sync = s.HitCap
            ? $"sync: stopped at the {r.Timeout.TotalSeconds:0.#} s cap with {s.Completed:#,0} of {s.Count:#,0} done (≥ {s.WallMicros / r.LatencyMicros:0} × L)"
            : $"sync: {s.WallMicros / r.LatencyMicros:0.0} × L with {s.WorkThreads} threads (pool peak {s.PeakPoolThreads})";
        return string.Create(CultureInfo.InvariantCulture,
            $"async: {a.WallMicros / r.LatencyMicros:0.00} × L wall time with {asyncThreads} threads (goal ≤ 2 × L with no more threads than cores: {(met ? "met" : "not met")}); " +
            $"{sync}; async {(s.HitCap ? "≥ " : "")}{s.WallMicros / a.WallMicros:0}× faster. Async runs (ms): {runs}.");
    }

    public static void Write(ManyResult r, MultiDeviceOptions options, string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "many.md"),
            $"{Header(options)}{Environment.NewLine}{Environment.NewLine}{Table(r, markdown: true)}{Environment.NewLine}{Verdict(r)}{Environment.NewLine}{Environment.NewLine}{r.ClockNote}.{Environment.NewLine}");
    }
}
