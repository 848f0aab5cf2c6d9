using System.Globalization;

namespace IntervalNotifier.Benchmarks.B1_MultiDevice;

/// <summary>The latency of each device's flush, in microseconds.</summary>
public abstract record LatencyModel
{
    /// <summary>Every device has latency <paramref name="Micros"/>.</summary>
    public sealed record Fixed(double Micros) : LatencyModel
    {
        public override double LatencyOf(int device, int devices, Random random) => Micros;

        public override string ToString() => $"{Micros} µs each";
    }

    /// <summary>Each device's latency is drawn once, uniformly in [Min, Max].</summary>
    public sealed record Uniform(double Min, double Max) : LatencyModel
    {
        public override double LatencyOf(int device, int devices, Random random) => Min + (random.NextDouble() * (Max - Min));

        public override string ToString() => $"uniform {Min}–{Max} µs";
    }

    /// <summary>One device (the last) has latency Slow; the others Fast.</summary>
    public sealed record OneSlow(double Fast, double Slow) : LatencyModel
    {
        public override double LatencyOf(int device, int devices, Random random) => device == devices - 1 ? Slow : Fast;

        public override string ToString() => $"{Fast} µs, one device {Slow} µs";
    }

    public abstract double LatencyOf(int device, int devices, Random random);

    public static LatencyModel Parse(string text)
    {
        string[] parts = text.Split(':', 2);
        static double[] Numbers(string s, char separator, int count)
        {
            string[] items = s.Split(separator);
            if (items.Length != count)
            {
                throw new FormatException($"expected {count} numbers separated by '{separator}' in '{s}'");
            }

            return [.. items.Select(i => ParsePositive(i, "latency"))];
        }

        return parts[0] switch
        {
            "uniform" when parts.Length == 2 => Numbers(parts[1], '-', 2) is [double min, double max] && min <= max
                ? new Uniform(min, max)
                : throw new FormatException("uniform:MIN-MAX needs MIN <= MAX"),
            "one-slow" when parts.Length == 2 => Numbers(parts[1], ',', 2) is [double fast, double slow] ? new OneSlow(fast, slow) : throw new FormatException("bad one-slow"),
            _ when parts.Length == 1 => new Fixed(ParsePositive(parts[0], "latency")),
            _ => throw new FormatException($"unknown latency model '{text}' (use 50, uniform:20-80 or one-slow:50,500)"),
        };
    }

    internal static double ParsePositive(string text, string what) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v)
            ? v
            : throw new FormatException($"{what} must be a positive number, not '{text}'");
}

/// <summary>The options of the multi-device comparison (B1).</summary>
public sealed record MultiDeviceOptions
{
    public int[] Devices { get; init; } = [1, 2, 4, 8, 16, 32, 64];

    public LatencyModel Latency { get; init; } = new LatencyModel.Fixed(50);

    public int Iterations { get; init; } = 1000;

    /// <summary>The two-pass pool's capacity; null = the number of devices.</summary>
    public int? PoolCapacity { get; init; }

    /// <summary>The faults of the third mode's pool ("two-pass, pool failing").</summary>
    public string Faults { get; init; } = "always";

    public WaitMode Wait { get; init; } = WaitMode.Spin;

    public string? OutDirectory { get; init; }

    public int Seed { get; init; } = 1;

    /// <summary>Caps each mode's measuring time per device count, so that the default run stays well under a minute.</summary>
    public TimeSpan BudgetPerMode { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long the device clock spins with nothing pending before it blocks.</summary>
    public TimeSpan ClockIdleSpin { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>Whether the default command also runs the many-at-once part after the B1 table.</summary>
    public bool RunMany { get; init; } = true;

    /// <summary>Many at once: the concurrent invalidations (each over its own range).</summary>
    public int ManyCount { get; init; } = 1000;

    /// <summary>Many at once: the asynchronous devices subscribed to each range.</summary>
    public int ManyDevices { get; init; } = 4;

    /// <summary>Many at once: each device's flush latency L, in µs.</summary>
    public double ManyLatencyMicros { get; init; } = 1000;

    /// <summary>Many at once: how the synchronous baseline's devices wait for their deadline.</summary>
    public WaitMode ManyWait { get; init; } = WaitMode.Block;

    /// <summary>Many at once: the cap on the synchronous baseline's run.</summary>
    public TimeSpan ManyTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Many at once: how many times the (short) asynchronous run is repeated; the median is reported.</summary>
    public int ManyRepeats { get; init; } = 5;

    public const string Usage = """
        Usage: IntervalNotifier.Benchmarks [b1] [options]        B1: the multi-device comparison, then many invalidations at once
               IntervalNotifier.Benchmarks many [options]        only B1's many-invalidations-at-once part
               IntervalNotifier.Benchmarks suites [BDN options]  the BenchmarkDotNet suites B2–B6, B8
               IntervalNotifier.Benchmarks cache [options]       B8's mixed run (cache --help for its options)
               IntervalNotifier.Benchmarks replay [options] TRACE…  B7: replay strace traces (replay --help)
               IntervalNotifier.Benchmarks plot b2|b3 REPORT.csv OUT.png  B2/B3 plots from BenchmarkDotNet's CSV reports

        The multi-device comparison times one invalidation (begin + end) of N devices on one range,
        in four modes interleaved iteration by iteration:
          single-pass   each device's Invalidate starts its flush and waits for it
          two-pass      every start pass starts its flush; the finish pass waits (pooled records)
          pool-failing  two-pass with the pool failing (--faults): each start falls back to waiting
          async         BeginInvalidationAsync over IAsyncTwoPassIntervalInvalidator devices: each
                        start schedules its completion with the device clock (one background
                        thread that signals every completion at its deadline); the begin's task is
                        spun on, not awaited, and the clock is kept running around each timed
                        invalidation (its wake-up is the model's cost, not the library's)

        Many at once: C invalidations of disjoint ranges, each range with D async devices of latency
        L, begun together — (a) BeginInvalidationAsync for all of them from one thread, the device
        clock completing every flush; (b) the synchronous BeginInvalidation from C thread-pool tasks,
        the devices blocking their thread until the deadline. Wall time, × L, and threads used.

        B1 options:
          --devices LIST        device counts, comma-separated (default 1,2,4,8,16,32,64)
          --latency SPEC        flush latency in µs: 50 | uniform:20-80 | one-slow:50,500 (default 50)
          --iterations N        invalidations measured per mode and device count (default 1000)
          --pool-capacity N     records in the two-pass pool (default: the device count)
          --faults SPEC         faults of the 'pool failing' mode: always | none | every:N | random:P[:SEED] (default always)
          --wait spin|sleep     how a device waits for its deadline (default spin; async devices never wait)
          --seed N              seed for latency draws and random faults (default 1)
          --clock-idle-spin US  how long the device clock spins with nothing pending before it blocks (default 1000)
          --quick               a short run: devices 1,2,4,8, 50 iterations, and 100 invalidations at once (for smoke tests)
          --out DIR             also write b1.csv, b1.md and b1.png (latency against N, one line per mode)
                                and many.md to DIR
          --help                this text

        Many-at-once options:
          --no-many             skip the many-at-once part of the default command
          --many-count C        concurrent invalidations (default 1000)
          --many-devices D      async devices per range (default 4)
          --many-latency US     each device's flush latency L in µs (default 1000)
          --many-wait block|spin  how the synchronous baseline's devices wait: block = Thread.Sleep(1 ms)
                                while more than 50 µs remain, then spin; spin = spin (default block)
          --many-timeout S      cap on the synchronous baseline's run, in seconds (default 10)
          --many-repeats N      runs of the asynchronous mode; the median is reported (default 5)
        """;

    public static MultiDeviceOptions Parse(IReadOnlyList<string> args)
    {
        var options = new MultiDeviceOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new FormatException($"{name} needs a value");
            options = name switch
            {
                "--devices" => options with { Devices = [.. Value().Split(',').Select(d => ParseCount(d, "--devices"))] },
                "--latency" => options with { Latency = LatencyModel.Parse(Value()) },
                "--iterations" => options with { Iterations = ParseCount(Value(), "--iterations") },
                "--pool-capacity" => options with { PoolCapacity = ParseCount(Value(), "--pool-capacity") },
                "--faults" => options with { Faults = ValidateFaults(Value()) },
                "--wait" => options with
                {
                    Wait = Value() switch
                    {
                        "spin" => WaitMode.Spin,
                        "sleep" => WaitMode.Sleep,
                        string w => throw new FormatException($"--wait is spin or sleep, not '{w}'"),
                    },
                },
                "--seed" => options with { Seed = ParseCount(Value(), "--seed") },
                "--clock-idle-spin" => options with { ClockIdleSpin = TimeSpan.FromMicroseconds(ParseNonNegative(Value(), "--clock-idle-spin")) },
                "--quick" => options with
                {
                    Devices = [1, 2, 4, 8], Iterations = 50, BudgetPerMode = TimeSpan.FromMilliseconds(300),
                    ManyCount = 100, ManyRepeats = 3, ManyTimeout = TimeSpan.FromSeconds(2),
                },
                "--no-many" => options with { RunMany = false },
                "--many-count" => options with { ManyCount = ParseCount(Value(), "--many-count") },
                "--many-devices" => options with { ManyDevices = ParseCount(Value(), "--many-devices") },
                "--many-latency" => options with { ManyLatencyMicros = LatencyModel.ParsePositive(Value(), "--many-latency") },
                "--many-wait" => options with
                {
                    ManyWait = Value() switch
                    {
                        "block" => WaitMode.Block,
                        "spin" => WaitMode.Spin,
                        string w => throw new FormatException($"--many-wait is block or spin, not '{w}'"),
                    },
                },
                "--many-timeout" => options with { ManyTimeout = TimeSpan.FromSeconds(LatencyModel.ParsePositive(Value(), "--many-timeout")) },
                "--many-repeats" => options with { ManyRepeats = ParseCount(Value(), "--many-repeats") },
                "--out" => options with { OutDirectory = Value() },
                _ => throw new FormatException($"unknown option '{name}'"),
            };
        }

        return options;
    }

    public AllocationFaults CreateFaults() => CreateFaults(Faults, Seed);

    private static string ValidateFaults(string spec)
    {
        _ = CreateFaults(spec, 1);
        return spec;
    }

    private static AllocationFaults CreateFaults(string spec, int seed)
    {
        string[] parts = spec.Split(':');
        return parts switch
        {
            ["always"] => AllocationFaults.Always,
            ["none"] => AllocationFaults.None,
            ["every", string n] => AllocationFaults.EveryNth(ParseCount(n, "--faults every:N")),
            ["random", string p] => AllocationFaults.Random(ParseProbability(p), seed),
            ["random", string p, string s] => AllocationFaults.Random(ParseProbability(p), ParseCount(s, "--faults random:P:SEED")),
            _ => throw new FormatException($"--faults is always, none, every:N or random:P[:SEED], not '{spec}'"),
        };
    }

    private static double ParseProbability(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double p) && p is >= 0 and <= 1
            ? p
            : throw new FormatException($"a probability is between 0 and 1, not '{text}'");

    private static double ParseNonNegative(string text, string what) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= 0 && double.IsFinite(v)
            ? v
            : throw new FormatException($"{what} must be a number ≥ 0, not '{text}'");

    private static int ParseCount(string text, string what) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n
            : throw new FormatException($"{what} needs a positive integer, not '{text}'");
}
