using System.Globalization;

namespace IntervalNotifier.Benchmarks.B8_Cache;

/// <summary>The options of B8's mixed run (the <c>cache</c> verb).</summary>
public sealed record MixedCacheOptions
{
    /// <summary>How long each variant runs, per key distribution.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(2);

    public int Keys { get; init; } = 10_000;

    public int Readers { get; init; } = 2;

    /// <summary>The writer's fixed rate of invalidations (each of 1–4 random pages).</summary>
    public int WritesPerSecond { get; init; } = 5_000;

    public int Seed { get; init; } = 1;

    /// <summary>A Markdown file to write the table to (for example docs/b8/cache.md).</summary>
    public string? OutPath { get; init; }

    public const string Usage = """
        Usage: IntervalNotifier.Benchmarks cache [options]   B8's mixed run: readers look up, a writer invalidates

        Reader threads look up keys (uniform, then Zipf-like: rank = (N+1)^u - 1) through the cache
        while one writer invalidates random 1-4 page ranges at a fixed rate, bumping the pages'
        versions inside its bracket; each variant (CoherentCache, the hand-written cache) runs on a
        fresh address space with every key cached first. Reported per variant: lookups/s, hit
        rate (lookups that ran no production), p50/p99/p99.9 lookup latency, and stale values: a
        lookup that returned a value older than the last write of its page completed before it
        began, or an entry left stale at the end (goal 0).

        Options:
          --seconds S             run time per variant and distribution (default 2)
          --keys N                distinct 128-byte keys over 16 MiB (default 10000)
          --readers R             reader threads (default 2)
          --writes-per-second W   the writer's rate (default 5000)
          --seed N                seed of the key set and the draws (default 1)
          --quick                 0.25 s per variant (for smoke tests)
          --out FILE              also write the Markdown table to FILE
          --help                  this text
        """;

    public static MixedCacheOptions Parse(IReadOnlyList<string> args)
    {
        var options = new MixedCacheOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new FormatException($"{name} needs a value");
            options = name switch
            {
                "--seconds" => options with { Duration = TimeSpan.FromSeconds(ParsePositive(Value(), name)) },
                "--keys" => options with { Keys = ParseCount(Value(), name) },
                "--readers" => options with { Readers = ParseCount(Value(), name) },
                "--writes-per-second" => options with { WritesPerSecond = ParseCount(Value(), name) },
                "--seed" => options with { Seed = ParseCount(Value(), name) },
                "--quick" => options with { Duration = TimeSpan.FromMilliseconds(250) },
                "--out" => options with { OutPath = Value() },
                _ => throw new FormatException($"unknown option '{name}'"),
            };
        }

        return options.Keys > (int)(CachePrimary.SpaceBytes / CachePrimary.KeyBytes)
            ? throw new FormatException($"--keys is at most {CachePrimary.SpaceBytes / CachePrimary.KeyBytes}")
            : options;
    }

    private static int ParseCount(string text, string what) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0
            ? v
            : throw new FormatException($"{what} must be a positive integer, not '{text}'");

    private static double ParsePositive(string text, string what) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v)
            ? v
            : throw new FormatException($"{what} must be a positive number, not '{text}'");
}
