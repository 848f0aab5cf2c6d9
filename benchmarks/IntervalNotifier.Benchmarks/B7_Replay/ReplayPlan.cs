namespace IntervalNotifier.Benchmarks.B7_Replay;

/// <summary>What a replay does at one step.</summary>
public enum ReplayOpKind
{
    /// <summary>The device subscribes a new mapping (<see cref="ReplayOp.Mapping"/>, <c>[Start, End)</c>).</summary>
    Subscribe,

    /// <summary>The device unsubscribes a mapping that is gone or was split.</summary>
    Unsubscribe,

    /// <summary>
    /// One invalidation of <c>[Start, End)</c> with <see cref="ReplayOp.Event"/>; the primary's
    /// pages of the affected mappings change inside its bracket.
    /// </summary>
    Invalidate,
}

/// <summary>
/// One step of a replay. For <see cref="ReplayOpKind.Invalidate"/>, the mappings it overlaps are
/// <c>ReplayPlan.Affected[AffectedFrom .. AffectedFrom + AffectedCount]</c>.
/// </summary>
public readonly record struct ReplayOp(
    ReplayOpKind Kind,
    int Process,
    int Mapping,
    ulong Start,
    ulong End,
    InvalidationEvent Event = InvalidationEvent.Unmap,
    int AffectedFrom = 0,
    int AffectedCount = 0);

/// <summary>A trace turned into the device's steps, identical for every address space replayed.</summary>
public sealed class ReplayPlan
{
    /// <summary>The steps, in trace order.</summary>
    public required IReadOnlyList<ReplayOp> Ops { get; init; }

    /// <summary>The mapping ids that invalidations overlap (see <see cref="ReplayOp.AffectedFrom"/>).</summary>
    public required int[] Affected { get; init; }

    /// <summary>The number of mapping ids handed out (ids are 0 … MappingCount − 1).</summary>
    public required int MappingCount { get; init; }

    /// <summary>The number of processes (address spaces) the trace had.</summary>
    public required int ProcessCount { get; init; }

    /// <summary>The trace's calls (after parsing).</summary>
    public required int Events { get; init; }

    /// <summary>How the calls were counted, for the report (e.g. "mmap 2415").</summary>
    public required IReadOnlyDictionary<string, int> CallCounts { get; init; }

    /// <summary>Mappings placed over live ones (MAP_FIXED or an overlapping mremap target): an Unmap first.</summary>
    public required int FixedOverLive { get; init; }

    /// <summary>The most subscriptions one process had at once.</summary>
    public required int PeakSubscriptions { get; init; }

    /// <summary>The number of invalidation steps.</summary>
    public int Invalidations => Ops.Count(o => o.Kind == ReplayOpKind.Invalidate);

    /// <summary>The number of subscribe steps.</summary>
    public int Subscribes => Ops.Count(o => o.Kind == ReplayOpKind.Subscribe);
}
