using System.Diagnostics.Metrics;
using IntervalNotifier.Diagnostics;

namespace IntervalNotifier.Tests.DotNet;

/// <summary>
/// docs/contract.md §8 (observability): metrics through an <see cref="IMeterFactory"/>, the
/// gauges of an address space, and the duration histograms.
/// </summary>
public sealed class MeterFactoryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The smallest factory: what <c>services.AddMetrics()</c> registers does the same, with caching.</summary>
    private sealed class TestMeterFactory : IMeterFactory
    {
        public List<Meter> Meters { get; } = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
            Meters.Add(meter);
            return meter;
        }

        public void Dispose() => Meters.ForEach(m => m.Dispose());
    }

    /// <summary>Collects every measurement of the instruments on one meter.</summary>
    private sealed class Collector : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<(string Instrument, double Value, Dictionary<string, object?> Tags)> _seen = [];

        public Collector(Func<Meter, bool> which)
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (which(instrument.Meter))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, v, t, _) => Add(i, v, t));
            _listener.SetMeasurementEventCallback<int>((i, v, t, _) => Add(i, v, t));
            _listener.SetMeasurementEventCallback<double>((i, v, t, _) => Add(i, v, t));
            _listener.Start();
        }

        public IReadOnlyList<(double Value, Dictionary<string, object?> Tags)> Of(string instrument)
        {
            lock (_seen)
            {
                return [.. _seen.Where(s => s.Instrument == instrument).Select(s => (s.Value, s.Tags))];
            }
        }

        public void Observe() => _listener.RecordObservableInstruments();

        public void Dispose() => _listener.Dispose();

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>();
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }

            lock (_seen)
            {
                _seen.Add((instrument.Name, value, copy));
            }
        }
    }

    [Fact]
    public void MeterFactory_TheSpacesInstrumentsAreOnTheFactorysMeter_NotOnTheSharedOne()
    {
        using var factory = new TestMeterFactory();
        string name = $"factory-{Guid.NewGuid():N}";
        using var onFactory = new Collector(m => m.Scope == factory);
        using var onShared = new Collector(m => m.Name == NotifierMetrics.MeterName && m.Scope is null);
        using var space = new AddressSpace(new AddressSpaceOptions { Name = name, MeterFactory = factory });
        space.Subscribe(0, 10, new RecordingInvalidator());
        space.BeginInvalidation(new InvalidationRange(0, 10)).Dispose();

        Meter meter = Assert.Single(factory.Meters);
        Assert.Equal(NotifierMetrics.MeterName, meter.Name);
        Assert.Equal(typeof(AddressSpace).Assembly.GetName().Version!.ToString(), meter.Version); // as on the shared meter
        Assert.Equal(1, onFactory.Of(NotifierMetrics.Invalidations).Count(m => Equals(m.Tags[NotifierMetrics.AddressSpaceTag], name)));
        Assert.DoesNotContain(onShared.Of(NotifierMetrics.Invalidations), m => Equals(m.Tags[NotifierMetrics.AddressSpaceTag], name));
    }

    [Fact]
    public void Gauges_ShowEachAddressSpacesActiveInvalidationsAndSubscriptions()
    {
        using var factory = new TestMeterFactory();
        using var collector = new Collector(m => m.Scope == factory);
        using var a = new AddressSpace(new AddressSpaceOptions { Name = "a", MeterFactory = factory });
        using var b = new AddressSpace(new AddressSpaceOptions { Name = "b", MeterFactory = factory });
        a.Subscribe(0, 10, new RecordingInvalidator());
        a.Subscribe(20, 10, new RecordingInvalidator());
        b.Subscribe(0, 10, new RecordingInvalidator());
        InvalidationScope open = a.BeginInvalidation(new InvalidationRange(0, 10));
        collector.Observe();
        open.Dispose();

        double Last(string instrument, string space) => collector.Of(instrument).Last(m => Equals(m.Tags[NotifierMetrics.AddressSpaceTag], space)).Value;
        Assert.Equal(1, Last(NotifierMetrics.ActiveInvalidations, "a"));
        Assert.Equal(0, Last(NotifierMetrics.ActiveInvalidations, "b"));
        Assert.Equal(2, Last(NotifierMetrics.Subscriptions, "a"));
        Assert.Equal(1, Last(NotifierMetrics.Subscriptions, "b"));
    }

    [Fact]
    public async Task Histograms_TimeInvalidationsWaitsAndAsyncFinishPasses()
    {
        using var factory = new TestMeterFactory();
        using var collector = new Collector(m => m.Scope == factory);
        var log = new List<string>();
        var pool = new FinishRecordPool<DeviceRecord>(2);
        var space = new AddressSpace(new AddressSpaceOptions { MeterFactory = factory });
        await using var disposal = Waiting.DisposesInTime(space);
        IntervalSubscription plain = space.Subscribe(0, 10, new RecordingInvalidator());
        var device = new AsyncDevice("d", pool, log) { CompletesAtOnce = true };
        space.Subscribe(100, 10, device);

        InvalidationScope scope = await space.BeginInvalidationAsync(new InvalidationRange(0, 10)); // held across await
        Task read = Waiting.OnThread(() => plain.ReadBegin()); // waits for the end
        Waiting.AssertBlocked(read, "ReadBegin");
        Task<ulong> readAsync = await Waiting.OnThread(() => plain.ReadBeginAsync(Ct).AsTask());
        scope.Dispose();
        Waiting.Completes(read, "ReadBegin");
        await readAsync.WaitAsync(Waiting.Patience, Ct);
        (await space.BeginInvalidationAsync(new InvalidationRange(100, 110))).Dispose();

        Assert.Equal(2, collector.Of(NotifierMetrics.InvalidationDuration).Count);
        Assert.All(collector.Of(NotifierMetrics.InvalidationDuration), m => Assert.True(m.Value >= 0));
        Assert.Equal(2, collector.Of(NotifierMetrics.WaitDuration).Count(m => Equals(m.Tags[NotifierMetrics.WaitTag], "read_begin")));
        Assert.True(collector.Of(NotifierMetrics.WaitDuration).Max(m => m.Value) >= Waiting.Watch.TotalSeconds * 0.5); // the blocked one waited
        Assert.Equal(2, collector.Of(NotifierMetrics.FinishPassDuration).Count); // both asynchronous begins
    }
}
