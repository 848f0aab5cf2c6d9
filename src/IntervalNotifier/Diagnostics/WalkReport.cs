namespace IntervalNotifier.Diagnostics;

/// <summary>What one invalidation did, counted during its passes and recorded once, after them.</summary>
internal struct WalkReport
{
    /// <summary>Single-pass and start-pass callbacks called.</summary>
    public int Callbacks;

    /// <summary>Start passes that returned no record (the subscriber finished synchronously).</summary>
    public int Fallbacks;

    /// <summary>Blockable callbacks that returned <see langword="false"/>.</summary>
    public int Refusals;

    /// <summary>Records finished.</summary>
    public int Finished;

    /// <summary>Records returned with <see langword="false"/> or already held.</summary>
    public int Misuses;

    /// <summary>Exceptions thrown by callbacks.</summary>
    public int Exceptions;

    /// <summary>Adds the counts of <paramref name="other"/>.</summary>
    /// <param name="other">More counts of the same invalidation.</param>
    public void Add(in WalkReport other)
    {
        Callbacks += other.Callbacks;
        Fallbacks += other.Fallbacks;
        Refusals += other.Refusals;
        Finished += other.Finished;
        Misuses += other.Misuses;
        Exceptions += other.Exceptions;
    }
}
