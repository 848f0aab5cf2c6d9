namespace IntervalNotifier.Collections;

// TEMPORARY: query variants compared in one process (removed once one is chosen).
internal static class IntervalTreeExperiment
{
    internal static int Variant = 2;
}
