namespace IntervalNotifier;

/// <summary>
/// Two-pass callbacks whose finish is awaitable (docs/contract.md §9): a device whose completion
/// is a fence, an I/O completion or a <see cref="Task"/>. The asynchronous begin
/// (<see cref="AddressSpace.BeginInvalidationAsync"/>, and <see cref="AddressSpace.DisposeAsync"/>)
/// calls <see cref="InvalidateFinishAsync"/> and awaits it together with every other device's;
/// the synchronous begin calls <see cref="ITwoPassIntervalInvalidator.InvalidateFinish"/>, which
/// such a device implements by blocking on the same completion.
/// </summary>
/// <remarks>
/// <para>
/// The start pass is unchanged and synchronous: <see cref="ITwoPassIntervalInvalidator.InvalidateStart"/>
/// only starts the device's work and returns a record describing what is left; it never awaits.
/// </para>
/// <para>
/// Code in the flow of <see cref="InvalidateFinishAsync"/> — its continuations after an await
/// included — counts as inside a callback: an unsubscribe or a <c>ReadBegin</c> there that
/// would wait for the running invalidation throws <see cref="InvalidOperationException"/>
/// instead of waiting for itself.
/// </para>
/// </remarks>
public interface IAsyncTwoPassIntervalInvalidator : ITwoPassIntervalInvalidator
{
    /// <summary>
    /// The finish pass, awaitable: completes the work that <see cref="ITwoPassIntervalInvalidator.InvalidateStart"/>
    /// started. The asynchronous begin calls it for every record of the invalidation, in start
    /// order, before it awaits any of them, so that the devices' waits overlap.
    /// </summary>
    /// <param name="finish">
    /// The record, and nothing else (as for <see cref="ITwoPassIntervalInvalidator.InvalidateFinish"/>).
    /// A pooled record goes back to its pool when the returned task has completed — also when it
    /// faults — never before; do not use it after that.
    /// </param>
    /// <returns>A task that completes when the device's work is done. A fault reaches the invalidator after every other finish has completed.</returns>
    ValueTask InvalidateFinishAsync(FinishRecord finish);
}
