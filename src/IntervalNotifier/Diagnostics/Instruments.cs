using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace IntervalNotifier.Diagnostics;

/// <summary>
/// The library's instruments on one meter: the shared static meter by default
/// (<see cref="Shared"/>), or a meter made by the <see cref="IMeterFactory"/> of
/// <see cref="AddressSpaceOptions.MeterFactory"/> (one set per meter, shared by the address
/// spaces that use it). The observable gauges read the address spaces registered here.
/// </summary>
internal sealed class Instruments
{
    private static readonly ConditionalWeakTable<Meter, Instruments> s_byMeter = [];

    // The address spaces the gauges read, held weakly. A ConditionalWeakTable rather than a
    // locked list: thread-safe without a lock of the library's own (a static lock would outlive
    // every address space, and systematic tests run each schedule with fresh locks).
    private readonly ConditionalWeakTable<AddressSpace, object?> _spaces = [];

    private Instruments(Meter meter)
    {
        Meter = meter;
        Invalidations = meter.CreateCounter<long>(NotifierMetrics.Invalidations, "{invalidation}", "Invalidations begun.");
        Callbacks = meter.CreateCounter<long>(NotifierMetrics.Callbacks, "{callback}", "Single-pass and start-pass callbacks called.");
        FinishRecords = meter.CreateCounter<long>(NotifierMetrics.FinishRecords, "{record}", "Finish records finished.");
        Fallbacks = meter.CreateCounter<long>(NotifierMetrics.Fallbacks, "{callback}", "Start passes that returned no finish record.");
        WouldBlockFailures = meter.CreateCounter<long>(NotifierMetrics.WouldBlockFailures, "{invalidation}", "Non-blockable invalidations that failed.");
        BlockableRefusals = meter.CreateCounter<long>(NotifierMetrics.BlockableRefusals, "{callback}", "Callbacks that returned false for a blockable range.");
        RecordMisuses = meter.CreateCounter<long>(NotifierMetrics.RecordMisuses, "{record}", "Finish records returned with false or already held.");
        CallbackExceptions = meter.CreateCounter<long>(NotifierMetrics.CallbackExceptions, "{exception}", "Exceptions thrown by callbacks.");
        DeferredChanges = meter.CreateCounter<long>(NotifierMetrics.DeferredChanges, "{change}", "Tree changes deferred to the end of the running invalidations.");
        Waits = meter.CreateCounter<long>(NotifierMetrics.Waits, "{wait}", "Waits for running invalidations to end.");
        InvalidationDuration = meter.CreateHistogram<double>(NotifierMetrics.InvalidationDuration, "s", "Duration of an invalidation, from its begin to its end (the scope's Dispose, or the core's end of a failed begin).");
        WaitDuration = meter.CreateHistogram<double>(NotifierMetrics.WaitDuration, "s", "Duration of a wait for running invalidations to end (tagged with the wait).");
        FinishPassDuration = meter.CreateHistogram<double>(NotifierMetrics.FinishPassDuration, "s", "Duration of the finish pass of asynchronous begins: from the first finish called to the last completed.");
        meter.CreateObservableGauge(NotifierMetrics.ActiveInvalidations, () => Observe(static s => s.ActiveInvalidations), "{invalidation}", "Open brackets of an address space.");
        meter.CreateObservableGauge(NotifierMetrics.Subscriptions, () => Observe(static s => s.SubscriptionCount), "{subscription}", "Live subscriptions of an address space.");
    }

    /// <summary>The instruments of the shared static meter named <see cref="NotifierMetrics.MeterName"/>.</summary>
    internal static Instruments Shared { get; } = new(new Meter(NotifierMetrics.MeterName, Version));

    internal static string? Version { get; } = typeof(Instruments).Assembly.GetName().Version?.ToString();

    internal static string?[] EventNames { get; } = Enum.GetNames<InvalidationEvent>();

    internal Meter Meter { get; }

    internal Counter<long> Invalidations { get; }

    internal Counter<long> Callbacks { get; }

    internal Counter<long> FinishRecords { get; }

    internal Counter<long> Fallbacks { get; }

    internal Counter<long> WouldBlockFailures { get; }

    internal Counter<long> BlockableRefusals { get; }

    internal Counter<long> RecordMisuses { get; }

    internal Counter<long> CallbackExceptions { get; }

    internal Counter<long> DeferredChanges { get; }

    internal Counter<long> Waits { get; }

    internal Histogram<double> InvalidationDuration { get; }

    internal Histogram<double> WaitDuration { get; }

    internal Histogram<double> FinishPassDuration { get; }

    /// <summary>The instruments for an address space with these options: on the factory's meter, or the shared one.</summary>
    /// <param name="factory">The options' factory, or <see langword="null"/>.</param>
    /// <returns>The instruments.</returns>
    internal static Instruments For(IMeterFactory? factory)
    {
        if (factory is null)
        {
            return Shared;
        }

        Meter meter = factory.Create(new MeterOptions(NotifierMetrics.MeterName) { Version = Version });
        return s_byMeter.GetValue(meter, static m => new Instruments(m));
    }

    /// <summary>Registers an address space with the gauges (weakly: one that is dropped stops being observed).</summary>
    /// <param name="space">The address space.</param>
    internal void Register(AddressSpace space) => _spaces.AddOrUpdate(space, null);

    private List<Measurement<int>> Observe(Func<AddressSpace, int> read)
    {
        var measurements = new List<Measurement<int>>();
        foreach (KeyValuePair<AddressSpace, object?> entry in _spaces)
        {
            measurements.Add(new Measurement<int>(read(entry.Key), new KeyValuePair<string, object?>(NotifierMetrics.AddressSpaceTag, entry.Key.Name)));
        }

        return measurements;
    }
}
