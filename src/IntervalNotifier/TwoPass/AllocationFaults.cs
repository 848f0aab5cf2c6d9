namespace IntervalNotifier;

/// <summary>
/// Deterministic allocation-failure injection for a <see cref="FinishRecordPool{T}"/>: decides
/// which takes fail as if memory were short (kernel: a <c>GFP_NOWAIT</c> allocation that fails),
/// so that tests and benchmarks can force the single-pass fallback.
/// </summary>
/// <remarks>
/// Instances with state (<see cref="EveryNth"/>, <see cref="Random"/>) count the takes of every
/// pool they are given to; give each pool its own instance for independent sequences. All are thread-safe.
/// </remarks>
public abstract class AllocationFaults
{
    private protected AllocationFaults()
    {
    }

    /// <summary>No take fails for fault injection (the pool's capacity still bounds it).</summary>
    public static AllocationFaults None { get; } = new NoFaults();

    /// <summary>Every take fails.</summary>
    public static AllocationFaults Always { get; } = new AlwaysFaults();

    /// <summary>Takes number n, 2n, 3n, … fail (counted from 1). <c>EveryNth(1)</c> fails every take.</summary>
    /// <param name="n">The period; at least 1.</param>
    /// <returns>A new, independent fault source.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is less than 1.</exception>
    public static AllocationFaults EveryNth(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        return new EveryNthFaults(n);
    }

    /// <summary>
    /// Each take fails with probability <paramref name="probability"/>, decided by a seeded
    /// generator: the k-th take's outcome depends only on the seed and k, so the outcomes
    /// replay exactly when one thread makes every take of this instance.
    /// </summary>
    /// <param name="probability">Between 0 and 1.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>A new, independent fault source.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="probability"/> is not within [0, 1].</exception>
    public static AllocationFaults Random(double probability, int seed)
    {
        if (!(probability >= 0.0 && probability <= 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "The probability must be between 0 and 1.");
        }

        return new RandomFaults(probability, seed);
    }

    /// <summary>Whether this take fails.</summary>
    internal abstract bool ShouldFail();

    private sealed class NoFaults : AllocationFaults
    {
        internal override bool ShouldFail() => false;

        public override string ToString() => "None";
    }

    private sealed class AlwaysFaults : AllocationFaults
    {
        internal override bool ShouldFail() => true;

        public override string ToString() => "Always";
    }

    private sealed class EveryNthFaults(int n) : AllocationFaults
    {
        private long _takes;

        internal override bool ShouldFail() => Interlocked.Increment(ref _takes) % n == 0;

        public override string ToString() => $"EveryNth({n})";
    }

    private sealed class RandomFaults(double probability, int seed) : AllocationFaults
    {
        // Stryker disable once Conditional,Equality : equivalent; at 1.0 the conversion saturates to ulong.MaxValue all the same.
        private readonly ulong _threshold = probability >= 1.0 ? ulong.MaxValue : (ulong)(probability * 18446744073709551616.0);
        private readonly ulong _stream = Mix((ulong)(uint)seed);
        private long _takes;

        internal override bool ShouldFail()
        {
            ulong take = (ulong)Interlocked.Increment(ref _takes);
            // Stryker disable once Equality : equivalent but for one mixed value in 2^64 (the mix equal to the threshold, or to ulong.MaxValue at 1.0).
            return probability >= 1.0 || Mix(_stream + take * 0x9E3779B97F4A7C15UL) < _threshold;
        }

        // SplitMix64's finalizer: a bijective mix of the (seed, take) counter.
        private static ulong Mix(ulong z)
        {
            z += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public override string ToString() => $"Random({probability}, {seed})";
    }
}
