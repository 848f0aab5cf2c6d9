using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace IntervalNotifier.Diagnostics;

/// <summary>
/// Records one address space's measurements (docs/contract.md §8). Free when nobody listens (a branch
/// per instrument), and failure-safe: a listener is user code, and one that throws loses its
/// measurement but never turns the operation it measures into a failure — an operation either
/// fails with no effect or succeeds, and diagnostics do not decide which. Called outside the
/// address space's lock, after the operation has committed.
/// </summary>
/// <param name="name">The address space's name, the value of <see cref="NotifierMetrics.AddressSpaceTag"/>.</param>
internal sealed class SpaceMetrics(string? name)
{
    private readonly KeyValuePair<string, object?> _space = new(NotifierMetrics.AddressSpaceTag, name);

    /// <summary>Records an invalidation and what its passes did.</summary>
    /// <param name="report">The counts.</param>
    /// <param name="event">The range's event.</param>
    /// <param name="completed"><see langword="false"/> when a non-blockable callback refused.</param>
    public void RecordInvalidation(in WalkReport report, InvalidationEvent @event, bool completed)
    {
        Add(Instruments.Invalidations, 1, new(NotifierMetrics.EventTag, Instruments.EventNames[(int)@event]));
        if (report.Callbacks == 0)
        {
            return;
        }

        Add(Instruments.Callbacks, report.Callbacks);
        Add(Instruments.Fallbacks, report.Fallbacks);
        Add(Instruments.BlockableRefusals, report.Refusals);
        Add(Instruments.FinishRecords, report.Finished);
        Add(Instruments.RecordMisuses, report.Misuses);
        Add(Instruments.CallbackExceptions, report.Exceptions);
        Add(Instruments.WouldBlockFailures, completed ? 0 : 1);
    }

    /// <summary>Records a deferred tree change (<c>insert</c> or <c>remove</c>).</summary>
    /// <param name="change">The kind of change.</param>
    public void RecordDeferred(string change) => Add(Instruments.DeferredChanges, 1, new(NotifierMetrics.ChangeTag, change));

    /// <summary>Records a wait for running invalidations (<c>read_begin</c> or <c>unsubscribe</c>).</summary>
    /// <param name="what">What waited.</param>
    public void RecordWait(string what) => Add(Instruments.Waits, 1, new(NotifierMetrics.WaitTag, what));

    /// <summary>A timestamp for a finish pass about to run, or 0 when nobody listens (so nothing is measured).</summary>
    /// <returns>The timestamp.</returns>
    public static long FinishPassStarted() => Instruments.FinishPassDuration.Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Records the duration of a finish pass begun at <paramref name="started"/> (nothing when it is 0).</summary>
    /// <param name="started">What <see cref="FinishPassStarted"/> returned.</param>
    public void RecordFinishPass(long started)
    {
        if (started != 0 && Instruments.FinishPassDuration.Enabled)
        {
            try
            {
                Instruments.FinishPassDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, _space);
            }
            catch (Exception)
            {
                // A listener threw: its measurement is lost, the operation stands (see the class).
            }
        }
    }

    private void Add(Counter<long> counter, long value)
    {
        if (value != 0 && counter.Enabled)
        {
            try
            {
                counter.Add(value, _space);
            }
            catch (Exception)
            {
                // A listener threw: its measurement is lost, the operation stands (see the class).
            }
        }
    }

    private void Add(Counter<long> counter, long value, KeyValuePair<string, object?> tag)
    {
        if (counter.Enabled)
        {
            try
            {
                counter.Add(value, _space, tag);
            }
            catch (Exception)
            {
                // A listener threw: its measurement is lost, the operation stands (see the class).
            }
        }
    }
}
