using Microsoft.Coyote;
using Microsoft.Coyote.SystematicTesting;

namespace IntervalNotifier.SystematicTests;

/// <summary>Runs a scenario under Coyote's systematic scheduler and reports what it found.</summary>
internal static class Systematic
{
    /// <summary>Iterations per scenario (at least 2000); INTERVALNOTIFIER_COYOTE_ITERATIONS raises it.</summary>
    public static uint Iterations { get; } =
        uint.TryParse(Environment.GetEnvironmentVariable("INTERVALNOTIFIER_COYOTE_ITERATIONS"), out uint n) && n > 2000 ? n : 2000;

    public sealed record Result(int Bugs, long Iterations, string Report, uint Seed);

    public static Result Run(Func<Task> scenario, uint seed, bool raceChecking = false, uint? iterations = null)
    {
        Configuration configuration = Configuration.Create()
            .WithTestingIterations(iterations ?? Iterations)
            .WithRandomGeneratorSeed(seed)
            .WithMaxSchedulingSteps(20_000)
            .WithMemoryAccessRaceCheckingEnabled(raceChecking);
        using var engine = TestingEngine.Create(configuration, scenario);
        engine.Run();
        TestReport report = engine.TestReport;
        long explored = report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths;
        return new Result(report.NumOfFoundBugs, explored, string.Join(Environment.NewLine, report.BugReports), seed);
    }

    /// <summary>Asserts that the scenario has no bug in any explored schedule; prints the seed and report otherwise.</summary>
    public static void AssertNoBug(Func<Task> scenario, uint seed, ITestOutputHelper output, bool raceChecking = false)
    {
        Result result = Run(scenario, seed, raceChecking);
        output.WriteLine($"seed {seed}: {result.Iterations} schedules explored, {result.Bugs} bugs");
        Assert.True(result.Bugs == 0, $"Coyote found a bug (seed {seed}, schedule {result.Iterations}):{Environment.NewLine}{result.Report}");
    }

    /// <summary>Asserts that the scenario finds the bug planted in it; reports at which schedule.</summary>
    public static void AssertFindsBug(Func<Task> scenario, uint seed, ITestOutputHelper output, bool raceChecking = false)
    {
        Result result = Run(scenario, seed, raceChecking);
        output.WriteLine($"seed {seed}: planted bug found after {result.Iterations} schedules: {result.Report}");
        Assert.True(result.Bugs > 0, $"Coyote did not find the planted bug in {result.Iterations} schedules (seed {seed}).");
    }
}
