namespace IntervalNotifier.Tests.Replay;

/// <summary>The committed B7 traces (benchmarks/…/B7_Replay/Traces/*.strace.gz), found from the test's directory upwards.</summary>
internal static class Traces
{
    private static readonly Lazy<string> Directory = new(() =>
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, "benchmarks", "IntervalNotifier.Benchmarks", "B7_Replay", "Traces");
            if (System.IO.Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("benchmarks/IntervalNotifier.Benchmarks/B7_Replay/Traces was not found above " + AppContext.BaseDirectory);
    });

    public static IEnumerable<string> Files => System.IO.Directory.GetFiles(Directory.Value, "*.strace.gz").Order(StringComparer.Ordinal);

    public static string PathOf(string name) => Path.Combine(Directory.Value, name);
}
