using System.Diagnostics.Metrics;

namespace IntervalNotifier.Diagnostics;

/// <summary>The instruments themselves; one static meter for the process.</summary>
internal static class Instruments
{
    internal static readonly Meter Meter = new(NotifierMetrics.MeterName, typeof(Instruments).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> Invalidations = Meter.CreateCounter<long>(NotifierMetrics.Invalidations, "{invalidation}", "Invalidations begun.");
    internal static readonly Counter<long> Callbacks = Meter.CreateCounter<long>(NotifierMetrics.Callbacks, "{callback}", "Single-pass and start-pass callbacks called.");
    internal static readonly Counter<long> FinishRecords = Meter.CreateCounter<long>(NotifierMetrics.FinishRecords, "{record}", "Finish records finished.");
    internal static readonly Counter<long> Fallbacks = Meter.CreateCounter<long>(NotifierMetrics.Fallbacks, "{callback}", "Start passes that returned no finish record.");
    internal static readonly Counter<long> WouldBlockFailures = Meter.CreateCounter<long>(NotifierMetrics.WouldBlockFailures, "{invalidation}", "Non-blockable invalidations that failed.");
    internal static readonly Counter<long> BlockableRefusals = Meter.CreateCounter<long>(NotifierMetrics.BlockableRefusals, "{callback}", "Callbacks that returned false for a blockable range.");
    internal static readonly Counter<long> RecordMisuses = Meter.CreateCounter<long>(NotifierMetrics.RecordMisuses, "{record}", "Finish records returned with false or already held.");
    internal static readonly Counter<long> CallbackExceptions = Meter.CreateCounter<long>(NotifierMetrics.CallbackExceptions, "{exception}", "Exceptions thrown by callbacks.");
    internal static readonly Counter<long> DeferredChanges = Meter.CreateCounter<long>(NotifierMetrics.DeferredChanges, "{change}", "Tree changes deferred to the end of the running invalidations.");
    internal static readonly Counter<long> Waits = Meter.CreateCounter<long>(NotifierMetrics.Waits, "{wait}", "Waits for running invalidations to end.");

    internal static readonly Histogram<double> FinishPassDuration = Meter.CreateHistogram<double>(NotifierMetrics.FinishPassDuration, "s", "Duration of the finish pass of asynchronous begins: from the first finish called to the last completed.");

    internal static readonly string?[] EventNames = Enum.GetNames<InvalidationEvent>();
}
