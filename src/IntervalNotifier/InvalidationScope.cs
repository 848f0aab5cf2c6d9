using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace IntervalNotifier;

/// <summary>
/// The open bracket of one invalidation: disposing it ends the invalidation (kernel:
/// <c>mmu_notifier_invalidate_range_end</c>). Dispose it exactly once, after the primary
/// mapping has changed: a scope of <see cref="AddressSpace.BeginInvalidation"/> or
/// <see cref="AddressSpace.TryBeginInvalidation"/> on the thread that began it; a scope of
/// <see cref="AddressSpace.BeginInvalidationAsync"/> on any thread. Zero allocation.
/// </summary>
/// <remarks>
/// Disposing a scope twice, a copy of a disposed scope, <c>default</c>, or the scope of a
/// failed <see cref="AddressSpace.TryBeginInvalidation"/> throws <see cref="InvalidOperationException"/>:
/// ending a bracket that is not open would corrupt the count of active invalidations.
/// </remarks>
[SuppressMessage("Performance", "CA1815:Override equals and operator equals on value types", Justification = "A scope is a handle to be disposed, not a value to compare.")]
[DebuggerDisplay("{DebuggerDisplay,nq}")]
public readonly struct InvalidationScope : IDisposable
{
    private readonly AddressSpace? _space;
    private readonly Bracket? _bracket;
    private readonly ulong _generation;

    internal InvalidationScope(AddressSpace space, Bracket bracket, ulong generation)
    {
        _space = space;
        _bracket = bracket;
        _generation = generation;
    }

    internal string DebuggerDisplay =>
        _bracket is null || _space is null ? "no invalidation (default, or a failed TryBeginInvalidation)"
        : _bracket.Generation != _generation ? "ended"
        : $"open in {(_space.Name is { } name ? "address space " + name : "its address space")} (Sequence = {_space.Sequence})";

    /// <summary>
    /// Ends the invalidation. When it is the last active one, the address space's sequence
    /// becomes even, deferred subscribes and unsubscribes are applied, and waiting readers and
    /// unsubscribers are released (after the lock is dropped). Never waits for anything but
    /// the address space's lock, and calls no callback (a metrics listener may observe the end).
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The scope does not hold an open invalidation: it was disposed already, it is
    /// <c>default</c>, or its begin failed. Or a synchronous scope was disposed on another
    /// thread than the one that began it: then the invalidation has been ended all the same
    /// (nothing is stranded), and the exception names <see cref="AddressSpace.BeginInvalidationAsync"/>,
    /// whose scopes may cross <c>await</c>.
    /// </exception>
    public void Dispose()
    {
        if (_bracket is null || _space is null)
        {
            throw new InvalidOperationException("This scope holds no invalidation: it is default, or it is the scope of a failed TryBeginInvalidation, which the core has already ended.");
        }

        _space.End(_bracket, _generation);
    }
}
