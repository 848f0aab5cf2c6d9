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

    /// <summary>A locked region that would defer a change or wait does not pin the odd period (its last end may then run without the lock: the change is never applied, the waiter never woken).</summary>
    PinSkipped = 4,

    /// <summary>Locked regions do not wait for a lock-free last end that is closing the odd period (a slow begin may then count itself while S is about to become even).</summary>
    ClosingIgnored = 8,

    /// <summary>A ReadBegin that must wait trusts s == S read after a pin that found S even (S became odd in between: it waits in a period nobody pinned).</summary>
    ReaderIgnoresPin = 16,

    /// <summary>GATE is set by an atomic OR while a lock-free last end may be closing (the closing's plain store of the word then erases it: a tree change may race a fast lookup).</summary>
    GateIgnoresClosing = 32,
}
