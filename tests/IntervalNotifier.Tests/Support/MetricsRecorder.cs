using System.Diagnostics.Metrics;
using IntervalNotifier.Diagnostics;

namespace IntervalNotifier.Tests.Support;

/// <summary>
/// Sums the library's counters for one address space (told apart by its name tag, since
/// tests run in parallel and the meter is shared).
/// </summary>
internal sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _sums = [];
    private readonly Dictionary<string, long> _measurements = [];
    private readonly List<(string Instrument, string Tag, object? Value)> _tags = [];

    public MetricsRecorder(string spaceName, string tagKey = NotifierMetrics.AddressSpaceTag)
    {
        SpaceName = spaceName;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == NotifierMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            bool mine = false;
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                mine |= tag.Key == tagKey && Equals(tag.Value, spaceName);
            }

            if (!mine)
            {
                return;
            }

            lock (_sums)
            {
                _sums[instrument.Name] = _sums.GetValueOrDefault(instrument.Name) + value;
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    if (tag.Key != tagKey)
                    {
                        _tags.Add((instrument.Name, tag.Key, tag.Value));
                    }
                }
            }
        });
        _listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == tagKey && Equals(tag.Value, spaceName))
                {
                    lock (_sums)
                    {
                        _measurements[instrument.Name] = _measurements.GetValueOrDefault(instrument.Name) + 1;
                    }

                    return;
                }
            }
        });
        _listener.Start();
    }

    /// <summary>How many measurements a histogram of this space recorded (durations: one per timed thing).</summary>
    public long Measurements(string histogram)
    {
        lock (_sums)
        {
            return _measurements.GetValueOrDefault(histogram);
        }
    }

    public string SpaceName { get; }

    public AddressSpaceOptions Options => new() { Name = SpaceName };

    public static MetricsRecorder ForNewSpace() => new($"test-{Guid.NewGuid():N}");

    /// <summary>A recorder of one coherent cache's instruments: give the cache <see cref="SpaceName"/> as its name.</summary>
    public static MetricsRecorder ForNewCache() => new($"cache-{Guid.NewGuid():N}", NotifierMetrics.CacheTag);

    public long this[string instrument]
    {
        get
        {
            lock (_sums)
            {
                return _sums.GetValueOrDefault(instrument);
            }
        }
    }

    public IReadOnlyList<object?> TagValues(string instrument, string tag)
    {
        lock (_sums)
        {
            return [.. _tags.Where(t => t.Instrument == instrument && t.Tag == tag).Select(t => t.Value)];
        }
    }

    public void Dispose() => _listener.Dispose();
}
