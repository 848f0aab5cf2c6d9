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

    public const string Usage = """
        Usage: IntervalNotifier.Benchmarks [b1] [options]        the multi-device comparison (B1)
               IntervalNotifier.Benchmarks suites [BDN options]  the BenchmarkDotNet suites B2–B6

        B1 options:
          --devices LIST        device counts, comma-separated (default 1,2,4,8,16,32,64)
          --latency SPEC        flush latency in µs: 50 | uniform:20-80 | one-slow:50,500 (default 50)
          --iterations N        invalidations measured per mode and device count (default 1000)
          --pool-capacity N     records in the two-pass pool (default: the device count)
          --faults SPEC         faults of the 'pool failing' mode: always | none | every:N | random:P[:SEED] (default always)
          --wait spin|sleep     how a device waits for its deadline (default spin)
          --seed N              seed for latency draws and random faults (default 1)
          --quick               a short run: devices 1,2,4,8 and 50 iterations (for smoke tests)
          --out DIR             also write b1.csv, b1.md and b1.png (latency against N) to DIR
          --help                this text
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
                "--quick" => options with { Devices = [1, 2, 4, 8], Iterations = 50, BudgetPerMode = TimeSpan.FromMilliseconds(300) },
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

    private static int ParseCount(string text, string what) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n
            : throw new FormatException($"{what} needs a positive integer, not '{text}'");
}
