using System.Globalization;
using Microsoft.Coyote;
using Microsoft.Coyote.SystematicTesting;

namespace IntervalNotifier.SystematicTests;

/// <summary>
/// Runs a scenario under Coyote's systematic scheduler and reports what it found. Every scenario
/// runs once per seed of <see cref="Seeds"/> (a theory case each), with at least 2,000 schedules
/// per seed: one seed proves little, since the random walk that a seed picks may pass a bug by.
/// </summary>
public static class Systematic
{
    /// <summary>The fixed seeds every scenario and every planted-bug control runs with.</summary>
    public static readonly uint[] DefaultSeeds = [901, 903, 907, 2026];

    /// <summary>Iterations per seed (at least 2,000); INTERVALNOTIFIER_COYOTE_ITERATIONS raises it.</summary>
    public static uint Iterations { get; } =
        uint.TryParse(Environment.GetEnvironmentVariable("INTERVALNOTIFIER_COYOTE_ITERATIONS"), out uint n) && n > 2000 ? n : 2000;

    /// <summary>
    /// The seeds, as theory data: <see cref="DefaultSeeds"/>, or the comma-separated list in
    /// INTERVALNOTIFIER_COYOTE_SEEDS (to run more seeds, or to replay one).
    /// </summary>
    public static TheoryData<uint> Seeds
    {
        get
        {
            string? configured = Environment.GetEnvironmentVariable("INTERVALNOTIFIER_COYOTE_SEEDS");
            IEnumerable<uint> seeds = string.IsNullOrWhiteSpace(configured)
                ? DefaultSeeds
                : configured.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => uint.Parse(s, CultureInfo.InvariantCulture));
            return [.. seeds];
        }
    }

    public sealed record Result(int Bugs, long Iterations, string Report, uint Seed, string? TracePath);

    /// <summary>How Coyote picks schedules.</summary>
    public enum Strategy
    {
        /// <summary>Coyote's default portfolio of strategies.</summary>
        Portfolio,

        /// <summary>
        /// Priority-based (PCT, fair: random once its 10 priority changes are spent, so that spin loops end): for bugs that need a thread to
        /// be preempted at two or three exact points, which the random walks of the portfolio
        /// reach in only some of a few thousand schedules.
        /// </summary>
        Prioritization,

        /// <summary>Uniformly random choices at every scheduling point.</summary>
        Random,

        /// <summary>Random, but keeps running the current operation with a high probability (few, long slices).</summary>
        Probabilistic,
    }

    public static Result Run(Func<Task> scenario, uint seed, bool raceChecking = false, string? testName = null, uint minimumIterations = 0)
    {
        Configuration configuration = Configuration.Create()
            .WithTestingIterations(Math.Max(Iterations, minimumIterations))
            .WithRandomGeneratorSeed(seed)
            .WithMaxSchedulingSteps(20_000)
            .WithMemoryAccessRaceCheckingEnabled(raceChecking);
        // INTERVALNOTIFIER_COYOTE_STRATEGY replaces the default portfolio, for experiments.
        string? forced = Environment.GetEnvironmentVariable("INTERVALNOTIFIER_COYOTE_STRATEGY");
        Strategy strategy = string.IsNullOrEmpty(forced) ? Strategy.Portfolio : Enum.Parse<Strategy>(forced, ignoreCase: true);

        configuration = strategy switch
        {
            Strategy.Prioritization => configuration.WithPrioritizationStrategy(isFair: true, priorityChangeBound: 10),
            Strategy.Random => configuration.WithRandomStrategy(),
            Strategy.Probabilistic => configuration.WithProbabilisticStrategy(3),
            _ => configuration,
        };

        // INTERVALNOTIFIER_COYOTE_DEBUG=1: a few schedules with Coyote's debug log, to find uncontrolled concurrency.
        if (Environment.GetEnvironmentVariable("INTERVALNOTIFIER_COYOTE_DEBUG") == "1")
        {
            configuration = configuration.WithTestingIterations(3).WithVerbosityEnabled(Microsoft.Coyote.Logging.VerbosityLevel.Debug)
                .WithConsoleLoggingEnabled().WithUncontrolledInvocationStackTraceLoggingEnabled();
        }

        // INTERVALNOTIFIER_COYOTE_REPLAY=<trace file> replays the schedule a failure saved.
        string? replay = Environment.GetEnvironmentVariable("INTERVALNOTIFIER_COYOTE_REPLAY");
        if (!string.IsNullOrEmpty(replay))
        {
            configuration = configuration.WithReproducibleTrace(File.ReadAllText(replay));
        }

        using var engine = TestingEngine.Create(configuration, scenario);
        engine.Run();
        TestReport report = engine.TestReport;
        long explored = report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths;
        string? tracePath = null;
        if (report.NumOfFoundBugs > 0 && !string.IsNullOrEmpty(engine.ReproducibleTrace))
        {
            tracePath = Path.Combine(Path.GetTempPath(), $"coyote-{testName ?? "scenario"}-seed{seed}.trace");
            File.WriteAllText(tracePath, engine.ReproducibleTrace);
        }

        return new Result(report.NumOfFoundBugs, explored, string.Join(Environment.NewLine, report.BugReports), seed, tracePath);
    }

    /// <summary>Asserts that the scenario has no bug in any explored schedule; prints the seed, schedule, report and replay command otherwise.</summary>
    public static void AssertNoBug(Func<Task> scenario, uint seed, ITestOutputHelper output, bool raceChecking = false, uint minimumIterations = 0, [System.Runtime.CompilerServices.CallerMemberName] string testName = "")
    {
        Result result = Run(scenario, seed, raceChecking, testName, minimumIterations);
        output.WriteLine($"{BuildConfiguration}: seed {seed}: {result.Iterations} schedules explored, {result.Bugs} bugs");
        Assert.True(result.Bugs == 0, $"Coyote found a bug ({BuildConfiguration}, seed {seed}, schedule {result.Iterations}):{Environment.NewLine}{result.Report}{Environment.NewLine}{ReplayCommand(testName, seed, result.TracePath)}");
    }

    /// <summary>Asserts that the scenario finds the bug planted in it; reports at which schedule.</summary>
    public static void AssertFindsBug(Func<Task> scenario, uint seed, ITestOutputHelper output, bool raceChecking = false, uint minimumIterations = 0)
    {
        Result result = Run(scenario, seed, raceChecking, minimumIterations: minimumIterations);
        output.WriteLine($"{BuildConfiguration}: seed {seed}: planted bug found after {result.Iterations} schedules: {result.Report}");
        Assert.True(result.Bugs > 0, $"Coyote did not find the planted bug in {result.Iterations} schedules ({BuildConfiguration}, seed {seed}).");
    }

    private static string BuildConfiguration =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    private static string ReplayCommand(string testName, uint seed, string? tracePath)
    {
        string rerun = $"INTERVALNOTIFIER_COYOTE_SEEDS={seed} dotnet test -c {BuildConfiguration} --project tests/IntervalNotifier.SystematicTests --filter-method '*{testName}*'";
        return tracePath is null
            ? $"Re-run: {rerun}"
            : $"Re-run: {rerun}{Environment.NewLine}Replay the failing schedule only: INTERVALNOTIFIER_COYOTE_REPLAY={tracePath} {rerun}";
    }
}
