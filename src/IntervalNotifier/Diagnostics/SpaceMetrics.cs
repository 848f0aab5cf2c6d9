using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace IntervalNotifier.Diagnostics;

/// <summary>
/// Records one address space's measurements (docs/contract.md §8). Free when nobody listens (a branch
/// per instrument), and failure-safe: a listener is user code, and one that throws loses its
/// measurement but never turns the operation it measures into a failure — an operation either
/// fails with no effect or succeeds, and diagnostics do not decide which. Called outside the
/// address space's lock, after the operation has committed.
/// </summary>
internal sealed class SpaceMetrics
{
    private readonly Instruments _instruments;
    private readonly KeyValuePair<string, object?> _space;

    /// <summary>Creates the recorder of one address space, and registers it with the gauges.</summary>
    /// <param name="space">The address space.</param>
    /// <param name="options">Its options: the name (the value of <see cref="NotifierMetrics.AddressSpaceTag"/>) and the meter factory.</param>
    public SpaceMetrics(AddressSpace space, AddressSpaceOptions? options)
    {
        _instruments = Instruments.For(options?.MeterFactory);
        _space = new(NotifierMetrics.AddressSpaceTag, options?.Name);
        _instruments.Register(space);
    }

    /// <summary>Records an invalidation and what its passes did.</summary>
    /// <param name="report">The counts.</param>
    /// <param name="event">The range's event.</param>
    /// <param name="completed"><see langword="false"/> when a non-blockable callback refused.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // once per invalidation: the checks inline, the recording out of line
    public void RecordInvalidation(in WalkReport report, InvalidationEvent @event, bool completed)
    {
        Add(_instruments.Invalidations, 1, new(NotifierMetrics.EventTag, Instruments.EventNames[(int)@event]));

        if (report.Callbacks == 0)
        {
            return;
        }

        Add(_instruments.Callbacks, report.Callbacks);
        Add(_instruments.Fallbacks, report.Fallbacks);
        Add(_instruments.BlockableRefusals, report.Refusals);
        Add(_instruments.FinishRecords, report.Finished);
        Add(_instruments.RecordMisuses, report.Misuses);
        Add(_instruments.CallbackExceptions, report.Exceptions);
        Add(_instruments.WouldBlockFailures, completed ? 0 : 1);
    }

    /// <summary>Records a deferred tree change (<c>insert</c> or <c>remove</c>).</summary>
    /// <param name="change">The kind of change.</param>
    public void RecordDeferred(string change) => Add(_instruments.DeferredChanges, 1, new(NotifierMetrics.ChangeTag, change));

    /// <summary>Records a wait for running invalidations (<c>read_begin</c> or <c>unsubscribe</c>).</summary>
    /// <param name="what">What waited.</param>
    public void RecordWait(string what) => Add(_instruments.Waits, 1, new(NotifierMetrics.WaitTag, what));

    /// <summary>A timestamp for an invalidation that begins, or 0 when nobody listens (then nothing is measured).</summary>
    /// <returns>The timestamp.</returns>
    public long InvalidationStarted() => Started(_instruments.InvalidationDuration);

    /// <summary>Records the duration of an invalidation begun at <paramref name="started"/> (nothing when it is 0).</summary>
    /// <param name="started">What <see cref="InvalidationStarted"/> returned.</param>
    public void RecordInvalidationEnded(long started) => Record(_instruments.InvalidationDuration, started, default);

    /// <summary>A timestamp for a wait that begins, or 0 when nobody listens.</summary>
    /// <returns>The timestamp.</returns>
    public long WaitStarted() => Started(_instruments.WaitDuration);

    /// <summary>Records the duration of a wait (<c>read_begin</c> or <c>unsubscribe</c>) begun at <paramref name="started"/>.</summary>
    /// <param name="started">What <see cref="WaitStarted"/> returned.</param>
    /// <param name="what">What waited.</param>
    public void RecordWaitEnded(long started, string what) => Record(_instruments.WaitDuration, started, new(NotifierMetrics.WaitTag, what));

    /// <summary>A timestamp for a finish pass about to run, or 0 when nobody listens.</summary>
    /// <returns>The timestamp.</returns>
    public long FinishPassStarted() => Started(_instruments.FinishPassDuration);

    /// <summary>Records the duration of a finish pass begun at <paramref name="started"/> (nothing when it is 0).</summary>
    /// <param name="started">What <see cref="FinishPassStarted"/> returned.</param>
    public void RecordFinishPass(long started) => Record(_instruments.FinishPassDuration, started, default);

    private static long Started(Histogram<double> histogram) => histogram.Enabled ? Stopwatch.GetTimestamp() : 0;

    // The check inline (a timestamp of 0: nobody listened when the measurement began), the recording out of line.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Record(Histogram<double> histogram, long started, KeyValuePair<string, object?> tag)
    {
        if (started != 0)
        {
            RecordCore(histogram, started, tag);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RecordCore(Histogram<double> histogram, long started, KeyValuePair<string, object?> tag)
    {
        if (histogram.Enabled)
        {
            try
            {
                double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                if (tag.Key is null)
                {
                    histogram.Record(seconds, _space);
                }
                else
                {
                    histogram.Record(seconds, _space, tag);
                }
            }
            catch (Exception)
            {
                // A listener threw: its measurement is lost, the operation stands (see the class).
            }
        }
    }

    // The checks inline (nothing to add, or nobody listening: no call), the addition out of line.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Add(Counter<long> counter, long value, KeyValuePair<string, object?> tag = default)
    {
        if (value != 0 && counter.Enabled)
        {
            AddCore(counter, value, tag);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AddCore(Counter<long> counter, long value, KeyValuePair<string, object?> tag)
    {
        try
        {
            if (tag.Key is null)
            {
                counter.Add(value, _space);
            }
            else
            {
                counter.Add(value, _space, tag);
            }
        }
        catch (Exception)
        {
            // A listener threw: its measurement is lost, the operation stands (see the class).
        }
    }
}
