using System.Diagnostics;

namespace IntervalNotifier.Collections;

/// <summary>
/// Identifies one element of a <see cref="IntervalTree{T}"/>: what
/// <see cref="IntervalTree{T}.Insert"/> returns, and what <see cref="IntervalTree{T}.Remove"/>
/// and <see cref="IntervalTree{T}.Contains"/> take. The <see langword="default"/> handle
/// identifies no element.
/// </summary>
/// <remarks>
/// A handle holds the element's start and an insertion number that is unique in the whole
/// process, so a handle of another tree, or of an element that was already removed (or cleared),
/// never matches anything. Handles are plain values: copying one is free, and equal handles
/// identify the same insertion.
/// </remarks>
[DebuggerDisplay("{ToString(),nq}")]
public readonly struct IntervalTreeHandle : IEquatable<IntervalTreeHandle>
{
    // The last insertion number handed out to any tree in the process; trees reserve blocks of
    // numbers (see the tree's NextId) so that they pay one interlocked add per block.
    private static long s_lastReserved;

    internal IntervalTreeHandle(ulong start, ulong id)
    {
        Start = start;
        Id = id;
    }

    /// <summary>The start of the element's interval (0 for the <see langword="default"/> handle).</summary>
    public ulong Start { get; }

    /// <summary>Whether this is the <see langword="default"/> handle, which identifies no element.</summary>
    public bool IsDefault => Id == 0;

    // The insertion number: unique in the process, never 0 for a real element, ascending in
    // insertion order within one tree (the tie-break among equal starts).
    internal ulong Id { get; }

    /// <summary>Whether two handles identify the same insertion.</summary>
    /// <param name="left">A handle.</param>
    /// <param name="right">Another handle.</param>
    /// <returns><see langword="true"/> when both hold the same start and insertion number.</returns>
    public static bool operator ==(IntervalTreeHandle left, IntervalTreeHandle right) => left.Equals(right);

    /// <summary>Whether two handles identify different insertions.</summary>
    /// <param name="left">A handle.</param>
    /// <param name="right">Another handle.</param>
    /// <returns><see langword="true"/> when they differ in start or insertion number.</returns>
    public static bool operator !=(IntervalTreeHandle left, IntervalTreeHandle right) => !left.Equals(right);

    /// <summary>Whether <paramref name="other"/> identifies the same insertion.</summary>
    /// <param name="other">Another handle.</param>
    /// <returns><see langword="true"/> when both hold the same start and insertion number.</returns>
    public bool Equals(IntervalTreeHandle other) => Id == other.Id && Start == other.Start;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is IntervalTreeHandle other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Start, Id);

    /// <inheritdoc/>
    public override string ToString() => IsDefault ? "(no element)" : $"#{Id} at {Start}";

    // Reserves `count` consecutive insertion numbers and returns the first. Blocks from later
    // calls are above blocks from earlier ones, so a tree that draws from successive blocks
    // keeps its numbers ascending in insertion order.
    internal static ulong Reserve(int count) => (ulong)Interlocked.Add(ref s_lastReserved, count) - (ulong)count + 1;
}
