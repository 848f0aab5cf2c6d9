using System.Diagnostics;
using System.Globalization;

namespace IntervalNotifier;

/// <summary>
/// A range of the address space whose primary mapping changes: the half-open
/// <c>[Start, End)</c>, with the <see cref="Event"/> that changes it and an optional
/// <see cref="Owner"/> tag (kernel: <c>struct mmu_notifier_range</c>). Whether callbacks may wait
/// (<see cref="Blockable"/>) is not part of what a caller builds: the begin that is called
/// decides it, and the range the callbacks receive says which.
/// </summary>
/// <remarks>
/// <para>
/// The constructor takes the half-open form and requires <c>End &gt; Start</c>, which cannot
/// reach the top address <c>2^64 - 1</c>. <see cref="Inclusive"/> takes the closed form
/// <c>[start, last]</c> and can: a range whose <see cref="Last"/> is <see cref="ulong.MaxValue"/>
/// reports <see cref="End"/> = 0 (the exclusive end wraps). Code that needs the bounds should
/// use <see cref="Start"/> and <see cref="Last"/>, which are always exact; the walk does.
/// </para>
/// <para>
/// The constructors validate their arguments. <c>default(InvalidationRange)</c>, and ranges
/// made with <c>with</c> expressions, bypass them: beginning an invalidation validates the range
/// again and throws <see cref="ArgumentException"/> for <c>default</c>, an empty or inverted
/// range, an undefined event, or an owner on an event that has none.
/// </para>
/// </remarks>
[DebuggerDisplay("{ToString(),nq}")]
public readonly record struct InvalidationRange
{
    private readonly ulong _last;
    private readonly bool _isValid;

    // Set by the core on the copy that the callbacks of TryBeginInvalidation receive; false in
    // every range a caller builds, so that the default reads "blockable".
    private readonly bool _nonBlockable;

    /// <summary>Creates the range <c>[Start, End)</c>.</summary>
    /// <param name="Start">The first address of the range.</param>
    /// <param name="End">The address after the last one; must be greater than <paramref name="Start"/>.</param>
    /// <param name="Event">Why the mapping changes.</param>
    /// <param name="Owner">A tag that lets a device skip an invalidation it caused itself; only for <see cref="InvalidationEvent.Migrate"/> and <see cref="InvalidationEvent.Exclusive"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="End"/> is not greater than <paramref name="Start"/> (empty or inverted), or <paramref name="Event"/> is not defined.</exception>
    /// <exception cref="ArgumentException"><paramref name="Owner"/> is set for an event other than <see cref="InvalidationEvent.Migrate"/> or <see cref="InvalidationEvent.Exclusive"/>.</exception>
    public InvalidationRange(ulong Start, ulong End, InvalidationEvent Event = InvalidationEvent.Unmap, object? Owner = null)
    {
        if (End <= Start)
        {
            throw new ArgumentOutOfRangeException(nameof(End), End,
                $"An invalidation range [Start, End) must not be empty or inverted: End must be greater than Start ({Start}). To reach 2^64 - 1, use InvalidationRange.Inclusive.");
        }

        ValidateEventAndOwner(Event, Owner, nameof(Event), nameof(Owner));
        this = new InvalidationRange(Start, End - 1, Event, Owner, nonBlockable: false);
    }

    private static void ValidateEventAndOwner(InvalidationEvent @event, object? owner, string eventName, string ownerName)
    {
        if ((uint)@event > (uint)InvalidationEvent.Exclusive)
        {
            throw new ArgumentOutOfRangeException(eventName, @event, "Not a defined InvalidationEvent.");
        }

        if (owner is not null && @event is not (InvalidationEvent.Migrate or InvalidationEvent.Exclusive))
        {
            throw new ArgumentException($"An owner is defined only for the Migrate and Exclusive events, not for {@event}.", ownerName);
        }
    }

    private InvalidationRange(ulong start, ulong last, InvalidationEvent @event, object? owner, bool nonBlockable)
    {
        Debug.Assert(last >= start);
        this.Start = start;
        _last = last;
        this.Event = @event;
        this.Owner = owner;
        _isValid = true;
        _nonBlockable = nonBlockable;
    }

    /// <summary>Creates the closed range <c>[start, last]</c>, which may reach <c>2^64 - 1</c> (then <see cref="End"/> is 0).</summary>
    /// <param name="start">The first address of the range.</param>
    /// <param name="last">The last address of the range, inclusive; not less than <paramref name="start"/>.</param>
    /// <param name="event">Why the mapping changes.</param>
    /// <param name="owner">A tag for <see cref="InvalidationEvent.Migrate"/> and <see cref="InvalidationEvent.Exclusive"/> only.</param>
    /// <returns>The range.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="last"/> is less than <paramref name="start"/>, or <paramref name="event"/> is not defined.</exception>
    /// <exception cref="ArgumentException"><paramref name="owner"/> is set for an event that has none.</exception>
    public static InvalidationRange Inclusive(ulong start, ulong last,
        InvalidationEvent @event = InvalidationEvent.Unmap, object? owner = null)
    {
        if (last < start)
        {
            throw new ArgumentOutOfRangeException(nameof(last), last, $"An inclusive range must not be inverted: last must not be less than start ({start}).");
        }

        ValidateEventAndOwner(@event, owner, nameof(@event), nameof(owner));
        return new InvalidationRange(start, last, @event, owner, nonBlockable: false);
    }

    /// <summary>The first address of the range.</summary>
    /// <remarks>A <c>with</c> expression may change it; the result is validated when an invalidation begins.</remarks>
    public ulong Start { get; init; }

    /// <summary>The address after the last one. It is 0 when the range reaches <c>2^64 - 1</c> (see <see cref="Inclusive"/>); use <see cref="Last"/> for an exact bound.</summary>
    /// <remarks>A <c>with</c> expression may change it (0 then means: up to <c>2^64 - 1</c>); the result is validated when an invalidation begins.</remarks>
    public ulong End
    {
        get => unchecked(_last + 1);
        init => _last = unchecked(value - 1);
    }

    /// <summary>The last address of the range, inclusive.</summary>
    public ulong Last => _last;

    /// <summary>Why the mapping changes.</summary>
    public InvalidationEvent Event { get; init; }

    /// <summary>
    /// Whether callbacks may wait: set by the begin that is called — <see langword="true"/> for
    /// <see cref="AddressSpace.BeginInvalidation"/> (and the asynchronous and release begins),
    /// <see langword="false"/> in the range the callbacks of
    /// <see cref="AddressSpace.TryBeginInvalidation"/> receive. A range a caller builds reads
    /// <see langword="true"/>. When <see langword="false"/>, a callback that would need to wait
    /// returns <see langword="false"/> instead, and the invalidation fails.
    /// </summary>
    public bool Blockable => !_nonBlockable;

    /// <summary>The copy of this range that the callbacks of a non-blockable begin receive.</summary>
    internal InvalidationRange AsNonBlockable() => new(Start, _last, Event, Owner, nonBlockable: true);

    /// <summary>
    /// The tag of whoever caused a <see cref="InvalidationEvent.Migrate"/> or
    /// <see cref="InvalidationEvent.Exclusive"/> invalidation, so that a device can skip one it
    /// caused itself; always <see langword="null"/> for other events. A callback checks
    /// <see cref="Event"/> before it looks at the owner.
    /// </summary>
    public object? Owner { get; init; }

    /// <summary>
    /// What is wrong with this range, or <see langword="null"/> when it is valid: the
    /// constructors validate eagerly, but <c>default</c> and <c>with</c> expressions bypass them.
    /// </summary>
    internal string? Problem()
    {
        if (!_isValid)
        {
            return "The range is default(InvalidationRange); construct it with new InvalidationRange(start, end) or InvalidationRange.Inclusive.";
        }

        if (_last < Start)
        {
            return $"The range is empty or inverted (Start = {Start}, End = {End}).";
        }

        if ((uint)Event > (uint)InvalidationEvent.Exclusive)
        {
            return $"The range's event ({(int)Event}) is not a defined InvalidationEvent.";
        }

        return Owner is not null && Event is not (InvalidationEvent.Migrate or InvalidationEvent.Exclusive)
            ? $"An owner is defined only for the Migrate and Exclusive events, not for {Event}."
            : null;
    }

    /// <summary>Whether the range overlaps the closed interval <c>[start, last]</c>.</summary>
    /// <param name="start">The first address of the interval.</param>
    /// <param name="last">The last address of the interval, inclusive.</param>
    /// <returns><see langword="true"/> if they share an address.</returns>
    public bool Overlaps(ulong start, ulong last) => Start <= last && start <= _last;

    /// <summary>Deconstructs the range into its constructor's parameters.</summary>
    /// <param name="Start">The first address.</param>
    /// <param name="End">The exclusive end (0 when the range reaches 2^64 - 1).</param>
    /// <param name="Event">The event.</param>
    /// <param name="Owner">The owner tag.</param>
    public void Deconstruct(out ulong Start, out ulong End, out InvalidationEvent Event, out object? Owner)
    {
        Start = this.Start;
        End = this.End;
        Event = this.Event;
        Owner = this.Owner;
    }

    /// <summary>A readable form, such as <c>[0x1000, 0x1fff] Unmap blockable</c>.</summary>
    /// <returns>The bounds in hexadecimal (closed form), the event, and the blockable flag.</returns>
    public override string ToString() =>
        _isValid
            ? string.Create(CultureInfo.InvariantCulture, $"[0x{Start:x}, 0x{_last:x}] {Event}{(Blockable ? " blockable" : " non-blockable")}{(Owner is null ? "" : " owner " + Owner)}")
            : "(default InvalidationRange)";
}
