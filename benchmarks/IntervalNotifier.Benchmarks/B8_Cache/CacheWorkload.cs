using System.Runtime.InteropServices;

namespace IntervalNotifier.Benchmarks.B8_Cache;

/// <summary>
/// B8's primary memory: 16 MiB of bytes and a version per 4 KiB page. The cached values are
/// derived from it by <see cref="Produce"/> — a checksum of the key's bytes, stamped with the
/// version of the page it was read from, so that a stale value can be told from a fresh one.
/// </summary>
public sealed class CachePrimary
{
    /// <summary>The size of the space the keys are drawn from.</summary>
    public const ulong SpaceBytes = 16 << 20;

    /// <summary>A page: the unit a writer changes and versions.</summary>
    public const ulong PageSize = 4096;

    /// <summary>Every key covers this many bytes, aligned on it (so no key crosses a page).</summary>
    public const ulong KeyBytes = 128;

    /// <summary>The factory handed to every cache: static, so that no lookup allocates a delegate.</summary>
    public static readonly Func<ulong, ulong, CachePrimary, CachedValue> Factory = Produce;

    public CachePrimary(int seed = 1)
    {
        new Random(seed).NextBytes(Memory);
    }

    /// <summary>The bytes the values are derived from (constant: writers only bump the versions).</summary>
    public byte[] Memory { get; } = new byte[SpaceBytes];

    /// <summary>Each page's version: bumped by a writer inside its invalidation bracket.</summary>
    public long[] Versions { get; } = new long[SpaceBytes / PageSize];

    /// <summary>Productions run by the current thread's lookups (the mixed run's miss count).</summary>
    [ThreadStatic]
    internal static long ThreadProductions;

    /// <summary>
    /// The factory: reads the page's version first (acquire), then the key's bytes — what a
    /// decoder does: it reads the primary, and the version says which state it read.
    /// </summary>
    public static CachedValue Produce(ulong start, ulong length, CachePrimary primary)
    {
        ThreadProductions++;
        long version = Volatile.Read(ref primary.Versions[start / PageSize]);
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(primary.Memory.AsSpan((int)start, (int)length));
        ulong checksum = 0;
        foreach (ulong word in words)
        {
            checksum = (checksum ^ word) * 0x100000001b3UL;
        }

        return new CachedValue(start, version, checksum);
    }
}

/// <summary>A value derived from one key: its address, the version of its page when read, a checksum of its bytes.</summary>
public sealed record CachedValue(ulong Start, long Version, ulong Checksum);

/// <summary>B8's key sets: distinct 128-byte keys spread over the 16 MiB space, and shuffled query orders over them.</summary>
public static class CacheKeys
{
    /// <summary><paramref name="count"/> distinct keys (start, length), 128-byte aligned, drawn uniformly over the space, in random order.</summary>
    public static (ulong Start, ulong Length)[] Distinct(int count, int seed = 8)
    {
        const int Slots = (int)(CachePrimary.SpaceBytes / CachePrimary.KeyBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Slots);
        var random = new Random(seed);
        int[] slots = [.. Enumerable.Range(0, Slots)];
        random.Shuffle(slots);
        return [.. slots.Take(count).Select(slot => ((ulong)slot * CachePrimary.KeyBytes, CachePrimary.KeyBytes))];
    }

    /// <summary>
    /// A query order: passes over every key, each pass shuffled anew, cut at a power of two of at
    /// least <paramref name="atLeast"/> queries (so a cursor wraps with a mask). Every key is
    /// queried; none twice in a row but by chance at a pass boundary.
    /// </summary>
    public static (ulong Start, ulong Length)[] Queries((ulong Start, ulong Length)[] keys, int atLeast, int seed = 9)
    {
        var random = new Random(seed);
        int length = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(atLeast, keys.Length));
        var result = new (ulong Start, ulong Length)[length];
        var pass = ((ulong Start, ulong Length)[])keys.Clone();
        for (int filled = 0; filled < length; filled += pass.Length)
        {
            random.Shuffle(pass);
            pass.AsSpan(0, Math.Min(pass.Length, length - filled)).CopyTo(result.AsSpan(filled));
        }

        return result;
    }
}
