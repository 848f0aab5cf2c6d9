namespace IntervalNotifier.Internal;

/// <summary>
/// Bugs the systematic tests plant on purpose in one address space (<see cref="AddressSpace.Planted"/>),
/// to show that their scenarios find them: a scenario that passes with its bug planted proves
/// nothing. <see cref="None"/> outside those tests.
/// </summary>
[Flags]
internal enum PlantedBugs
{
    /// <summary>The real protocol.</summary>
    None = 0,

    /// <summary>A fast end takes the count to zero without the slow path, even when S is odd (S then stays odd: nobody applies the deferred changes or wakes the waiters).</summary>
    FastEndSkipsSlowPath = 1,

    /// <summary>Closing the gate does not wait for the fast lookups already running (a tree change may then race a begin that has found its first hit).</summary>
    GateSkipsLookers = 2,
}
