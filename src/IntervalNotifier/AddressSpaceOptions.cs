namespace IntervalNotifier;

/// <summary>Options of an <see cref="AddressSpace"/>.</summary>
public sealed class AddressSpaceOptions
{
    /// <summary>
    /// A name for diagnostics: it tags the address space's metrics
    /// (<see cref="Diagnostics.NotifierMetrics.AddressSpaceTag"/>) and shows in the debugger.
    /// </summary>
    public string? Name { get; init; }
}
