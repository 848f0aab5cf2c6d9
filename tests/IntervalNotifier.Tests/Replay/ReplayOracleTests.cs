using IntervalNotifier.Benchmarks.B7_Replay;

namespace IntervalNotifier.Tests.Replay;

/// <summary>B7's replay: no stale page over the library or a baseline, and an oracle that does catch a device that keeps stale pages.</summary>
public sealed class ReplayOracleTests
{
    private static ReplayPlan PlanOf(string name, int calls) =>
        ReplayPlanner.Plan(StraceParser.ParseFile(Traces.PathOf(name)).Calls.Take(calls));

    [Theory]
    [InlineData("AddressSpace")]
    [InlineData("AVL tree")]
    [InlineData("sorted array")]
    [InlineData("locked list")]
    public void Replay_CommittedTraces_NoStalePage(string space)
    {
        Func<IReplaySpace> create = ReplayCommand.Spaces.Single(s => s.Name == space).Create;
        foreach (string file in Traces.Files)
        {
            ReplayRun run = ReplayRunner.Run(PlanOf(Path.GetFileName(file), 3000), create, readerCount: 2);

            Assert.Equal(0, run.StalePublished);
            Assert.Equal(0, run.StaleKept);
        }
    }

    [Fact]
    public void Replay_DeviceWhoseCallbacksNeverRun_OracleCountsStalePages()
    {
        ReplayPlan plan = PlanOf("node.strace.gz", 20_000);
        long stale = 0;
        for (int attempt = 0; attempt < 20 && stale == 0; attempt++)
        {
            stale += ReplayRunner.Run(plan, () => new DeafReplaySpace(), readerCount: 1).Stale;
        }

        Assert.True(stale > 0, "the oracle found no stale page although no callback ran");
    }

    [Fact]
    public void Replay_FaultPathWithoutReadRetry_OracleCountsStalePages()
    {
        ReplayPlan plan = PlanOf("node.strace.gz", 20_000);
        long stale = 0;
        for (int attempt = 0; attempt < 50 && stale == 0; attempt++)
        {
            stale += ReplayRunner.Run(plan, () => new NoRetryReplaySpace(), readerCount: 2).Stale;
        }

        Assert.True(stale > 0, "the oracle found no stale page although read_retry never said retry");
    }

    // A broken fault path: read_retry never asks for a retry, so a copy read before an invalidation can be published after it.
    private sealed class NoRetryReplaySpace : IReplaySpace
    {
        private readonly AvlReplaySpace _inner = new();

        public void Subscribe(MirroredMapping mapping) => _inner.Subscribe(mapping);

        public void Unsubscribe(MirroredMapping mapping) => _inner.Unsubscribe(mapping);

        public void BeginInvalidation(ulong start, ulong last, InvalidationEvent kind) => _inner.BeginInvalidation(start, last, kind);

        public void EndInvalidation() => _inner.EndInvalidation();

        public ulong ReadBegin(MirroredMapping mapping) => _inner.ReadBegin(mapping);

        public bool ReadRetry(MirroredMapping mapping, ulong sequence) => false;

        public void Dispose() => _inner.Dispose();
    }

    // A broken baseline: its walk calls no callback, so the mirror keeps what it had.
    private sealed class DeafReplaySpace : LockedReplaySpace
    {
        protected override void Insert(BaselineEntry entry)
        {
        }

        protected override void Remove(BaselineEntry entry)
        {
        }

        protected override void Walk(ulong start, ulong last, ulong currentSequence)
        {
        }
    }
}
