namespace IntervalNotifier.Caching;

/// <summary>A cache entry's range, closed: <c>[Start, Last]</c>.</summary>
/// <param name="Start">The first address.</param>
/// <param name="Last">The last address, inclusive.</param>
internal readonly record struct CacheKey(ulong Start, ulong Last)
{
    /// <summary>The number of addresses (a key never covers the whole space: it is made from a length).</summary>
    public ulong Length => Last - Start + 1;

    /// <summary>The key of <c>[start, start + length - 1]</c>.</summary>
    /// <param name="start">The first address.</param>
    /// <param name="length">The number of addresses.</param>
    /// <returns>The key.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is 0, or the range passes <c>2^64 - 1</c>.</exception>
    public static CacheKey Create(ulong start, ulong length)
    {
        if (length == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "A cache entry must cover at least one address.");
        }

        if (length - 1 > ulong.MaxValue - start)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"start + length - 1 overflows 64 bits (start = {start}).");
        }

        return new CacheKey(start, start + (length - 1));
    }

    /// <summary>Whether the key shares an address with <c>[start, last]</c>.</summary>
    /// <param name="start">The first address.</param>
    /// <param name="last">The last address, inclusive.</param>
    /// <returns>Whether they overlap.</returns>
    public bool Overlaps(ulong start, ulong last) => Start <= last && start <= Last;
}
