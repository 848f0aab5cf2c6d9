using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using IntervalNotifier.Caching;

namespace IntervalNotifier.Benchmarks.B8_Cache;

/// <summary>One variant's figures in the mixed run.</summary>
public sealed record MixedCacheRow(
    string Distribution, string Variant, double LookupsPerSecond, double HitRate, long Productions,
    double P50Ns, double P99Ns, double P999Ns, double MaxNs, double WritesPerSecond, long Stale, long StaleAtEnd);

/// <summary>
/// B8's mixed run (the <c>cache</c> verb): reader threads look keys up while a writer
/// invalidates random small ranges at a fixed rate, for <see cref="CoherentCache{TValue}"/> and
/// <see cref="HandWrittenCache{TValue}"/>, with a page-version oracle for stale values.
/// </summary>
public static class MixedCacheRun
{
    private const int HistogramNs = 100_000; // latencies at 1 ns resolution up to 100 µs; the max separately
    private const int OrderLength = 1 << 20;
    private static readonly double s_nsPerTick = 1e9 / Stopwatch.Frequency;

    public static int RunVerb(IReadOnlyList<string> args)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(MixedCacheOptions.Usage);
            return 0;
        }

        MixedCacheOptions options;
        try
        {
            options = MixedCacheOptions.Parse(args);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine();
            Console.Error.WriteLine(MixedCacheOptions.Usage);
            return 2;
        }

        string header = Header(options, TimerFloorNs());
        Console.WriteLine(header);
        Console.WriteLine();
        List<MixedCacheRow> rows = Run(options, Console.Out);
        string table = Table(rows);
        Console.WriteLine();
        Console.Write(table);
        if (options.OutPath is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            File.WriteAllText(path, $"# B8 — the coherent cache, mixed run\n\n{header}\n\n{table}");
            Console.WriteLine($"Wrote {Path.GetFullPath(path)}.");
        }

        long stale = rows.Sum(r => r.Stale + r.StaleAtEnd);
        if (stale != 0)
        {
            Console.Error.WriteLine($"error: {stale} stale values");
            return 1;
        }

        return 0;
    }

    public static List<MixedCacheRow> Run(MixedCacheOptions options, TextWriter log)
    {
        (ulong Start, ulong Length)[] keys = CacheKeys.Distinct(options.Keys, options.Seed);
        var random = new Random(options.Seed);
        int n = keys.Length;
        int[] uniform = [.. Enumerable.Range(0, OrderLength).Select(_ => random.Next(n))];
        int[] zipf = [.. Enumerable.Range(0, OrderLength).Select(_ => Math.Min(n - 1, (int)Math.Pow(n + 1, random.NextDouble()) - 1))];
        var rows = new List<MixedCacheRow>();
        foreach ((string distribution, int[] order) in new[] { ("uniform", uniform), ("zipf", zipf) })
        {
            foreach (string variant in new[] { "CoherentCache", "hand-written" })
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                MixedCacheRow row = RunOne(options, keys, distribution, order, variant);
                log.WriteLine($"{distribution,-8} {variant,-14} {row.LookupsPerSecond / 1e6,6:F2} M lookups/s, hit rate {row.HitRate:P2}, p99 {row.P99Ns:N0} ns, stale {row.Stale + row.StaleAtEnd}");
                rows.Add(row);
            }
        }

        return rows;
    }

    private static MixedCacheRow RunOne(MixedCacheOptions options, (ulong Start, ulong Length)[] keys, string distribution, int[] order, string variantName)
    {
        var primary = new CachePrimary(options.Seed);
        var completed = new long[primary.Versions.Length]; // per page: the version its last completed write left
        using var space = new AddressSpace();
        using IVariant variant = variantName == "CoherentCache" ? new Coherent(space, primary) : new HandWritten(space, primary);
        foreach ((ulong start, ulong length) in keys)
        {
            variant.Get(start, length);
        }

        var readers = new Reader[options.Readers];
        bool stop = false;
        using var go = new ManualResetEventSlim();
        var threads = new List<Thread>();
        for (int r = 0; r < readers.Length; r++)
        {
            Reader reader = readers[r] = new Reader(r * (OrderLength / readers.Length));
            threads.Add(new Thread(() =>
            {
                go.Wait();
                reader.Run(variant, keys, order, completed, ref stop);
            }));
        }

        long writes = 0;
        threads.Add(new Thread(() =>
        {
            go.Wait();
            writes = Write(space, primary, completed, options, ref stop);
        }));
        threads.ForEach(t => t.Start());
        long begun = Stopwatch.GetTimestamp();
        go.Set();
        Thread.Sleep(options.Duration);
        Volatile.Write(ref stop, true);
        double seconds = Stopwatch.GetElapsedTime(begun).TotalSeconds;
        threads.ForEach(t => t.Join());

        // The end check: no entry left that is older than its page.
        long staleAtEnd = 0;
        foreach ((ulong start, ulong length) in keys)
        {
            if (variant.TryGet(start, length, out CachedValue? value) && value.Version != primary.Versions[start / CachePrimary.PageSize])
            {
                staleAtEnd++;
            }
        }

        long[] histogram = new long[HistogramNs + 1];
        foreach (Reader reader in readers)
        {
            for (int i = 0; i < histogram.Length; i++)
            {
                histogram[i] += reader.Histogram[i];
            }
        }

        long lookups = readers.Sum(r => r.Lookups);
        long productions = readers.Sum(r => r.Productions);
        return new MixedCacheRow(
            distribution, variantName, lookups / seconds, 1 - ((double)productions / lookups), productions,
            Percentile(histogram, lookups, 0.50), Percentile(histogram, lookups, 0.99), Percentile(histogram, lookups, 0.999),
            readers.Max(r => r.MaxNs), writes / seconds, readers.Sum(r => r.Stale), staleAtEnd);
    }

    // The writer: invalidations of 1–4 random pages at a fixed rate, each page's version bumped
    // inside the bracket and recorded as completed after it (the oracle's floor).
    private static long Write(AddressSpace space, CachePrimary primary, long[] completed, MixedCacheOptions options, ref bool stop)
    {
        var random = new Random(options.Seed + 1000);
        int pages = primary.Versions.Length;
        long begun = Stopwatch.GetTimestamp();
        long done = 0;
        while (!Volatile.Read(ref stop))
        {
            long due = (long)(Stopwatch.GetElapsedTime(begun).TotalSeconds * options.WritesPerSecond);
            for (; done < due && !Volatile.Read(ref stop); done++)
            {
                int first = random.Next(pages - 3), count = 1 + random.Next(4);
                using (space.BeginInvalidation(new InvalidationRange((ulong)first * CachePrimary.PageSize, (ulong)(first + count) * CachePrimary.PageSize)))
                {
                    for (int p = first; p < first + count; p++)
                    {
                        Interlocked.Increment(ref primary.Versions[p]);
                    }
                }

                for (int p = first; p < first + count; p++)
                {
                    Volatile.Write(ref completed[p], Volatile.Read(ref primary.Versions[p]));
                }
            }

            Thread.Sleep(1); // paced, not spinning: the readers have the cores
        }

        return done;
    }

    private static double Percentile(long[] histogram, long count, double q)
    {
        long rank = (long)Math.Ceiling(q * count), seen = 0;
        for (int ns = 0; ns < HistogramNs; ns++)
        {
            seen += histogram[ns];
            if (seen >= rank)
            {
                return ns;
            }
        }

        return double.PositiveInfinity; // in the last bucket: 100 µs or more
    }

    private static double TimerFloorNs()
    {
        var samples = new long[100_000];
        for (int i = 0; i < samples.Length; i++)
        {
            long t = Stopwatch.GetTimestamp();
            samples[i] = Stopwatch.GetTimestamp() - t;
        }

        Array.Sort(samples);
        return samples[samples.Length / 2] * s_nsPerTick;
    }

    public static string Header(MixedCacheOptions o, double timerFloorNs) => string.Create(CultureInfo.InvariantCulture,
        $"B8 mixed run: {o.Keys:N0} keys of {CachePrimary.KeyBytes} B over 16 MiB, {o.Readers} readers, 1 writer at {o.WritesPerSecond:N0} invalidations/s of 1–4 pages, " +
        $"{o.Duration.TotalSeconds:0.##} s per variant and distribution; CoherentCache with default options (64 KiB regions, no size limit). " +
        $"{RuntimeInformation.FrameworkDescription}, {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores. " +
        $"Latencies include a Stopwatch.GetTimestamp pair (median {timerFloorNs:0} ns here); hit rate = lookups that ran no production.");

    public static string Table(IReadOnlyList<MixedCacheRow> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("| key draw | cache | lookups/s | hit rate | productions | p50 | p99 | p99.9 | max | writes/s | stale |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (MixedCacheRow r in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {r.Distribution} | {r.Variant} | {r.LookupsPerSecond / 1e6:F2} M | {r.HitRate:P2} | {r.Productions:N0} | {Ns(r.P50Ns)} | {Ns(r.P99Ns)} | {Ns(r.P999Ns)} | {Ns(r.MaxNs)} | {r.WritesPerSecond:N0} | {r.Stale + r.StaleAtEnd} |");
        }

        text.AppendLine();
        foreach (IGrouping<string, MixedCacheRow> group in rows.GroupBy(r => r.Distribution))
        {
            MixedCacheRow coherent = group.First(r => r.Variant == "CoherentCache"), hand = group.First(r => r.Variant == "hand-written");
            text.AppendLine(CultureInfo.InvariantCulture, $"- {group.Key}: CoherentCache / hand-written lookups/s = {coherent.LookupsPerSecond / hand.LookupsPerSecond:F2}×, p99 {coherent.P99Ns / hand.P99Ns:F2}×");
        }

        return text.ToString();

        static string Ns(double ns) => double.IsPositiveInfinity(ns) ? "> 100 µs" : ns >= 10_000 ? string.Create(CultureInfo.InvariantCulture, $"{ns / 1000:N1} µs") : string.Create(CultureInfo.InvariantCulture, $"{ns:N0} ns");
    }

    private interface IVariant : IDisposable
    {
        CachedValue Get(ulong start, ulong length);

        bool TryGet(ulong start, ulong length, out CachedValue value);
    }

    private sealed class Coherent(AddressSpace space, CachePrimary primary) : IVariant
    {
        private readonly CoherentCache<CachedValue> _cache = new(space);

        public CachedValue Get(ulong start, ulong length) => _cache.GetOrAdd(start, length, CachePrimary.Factory, primary);

        public bool TryGet(ulong start, ulong length, out CachedValue value) => _cache.TryGetValue(start, length, out value!);

        public void Dispose() => _cache.Dispose();
    }

    private sealed class HandWritten(AddressSpace space, CachePrimary primary) : IVariant
    {
        private readonly HandWrittenCache<CachedValue> _cache = new(space);

        public CachedValue Get(ulong start, ulong length) => _cache.GetOrAdd(start, length, CachePrimary.Factory, primary);

        public bool TryGet(ulong start, ulong length, out CachedValue value) => _cache.TryGetValue(start, length, out value);

        public void Dispose() => _cache.Dispose();
    }

    // One reader thread: its lookups, productions, stale values and latency histogram.
    private sealed class Reader(int offset)
    {
        public long[] Histogram { get; } = new long[HistogramNs + 1];

        public long Lookups { get; private set; }

        public long Productions { get; private set; }

        public long Stale { get; private set; }

        public double MaxNs { get; private set; }

        public void Run(IVariant variant, (ulong Start, ulong Length)[] keys, int[] order, long[] completed, ref bool stop)
        {
            long productions = CachePrimary.ThreadProductions, lookups = 0, stale = 0, max = 0;
            long[] histogram = Histogram;
            int next = offset;
            while (!Volatile.Read(ref stop))
            {
                for (int i = 0; i < 64; i++)
                {
                    (ulong start, ulong length) = keys[order[next++ & (OrderLength - 1)]];
                    long floor = Volatile.Read(ref completed[start / CachePrimary.PageSize]);
                    long t0 = Stopwatch.GetTimestamp();
                    CachedValue value = variant.Get(start, length);
                    long ticks = Stopwatch.GetTimestamp() - t0;
                    long ns = (long)(ticks * s_nsPerTick);
                    histogram[Math.Min(ns, HistogramNs)]++;
                    max = Math.Max(max, ns);
                    stale += value.Version < floor ? 1 : 0;
                }

                lookups += 64;
            }

            (Lookups, Productions, Stale, MaxNs) = (lookups, CachePrimary.ThreadProductions - productions, stale, max);
        }
    }
}
