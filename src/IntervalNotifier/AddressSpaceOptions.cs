using System.Diagnostics.Metrics;

namespace IntervalNotifier;

/// <summary>Options of an <see cref="AddressSpace"/>.</summary>
public sealed class AddressSpaceOptions
{
    /// <summary>
    /// A name for diagnostics: it tags the address space's metrics
    /// (<see cref="Diagnostics.NotifierMetrics.AddressSpaceTag"/>) and shows in the debugger.
    /// </summary>
    public string? Name { get; init; }

    /// <summary>
    /// Where the address space's meter comes from, for dependency injection (the .NET 8+
    /// convention: <c>services.AddMetrics()</c>, then the container's <see cref="IMeterFactory"/>):
    /// the meter is named <see cref="Diagnostics.NotifierMetrics.MeterName"/> and owned by the
    /// factory. <see langword="null"/> (the default): the library's shared static meter of that name.
    /// </summary>
    public IMeterFactory? MeterFactory { get; init; }
}
