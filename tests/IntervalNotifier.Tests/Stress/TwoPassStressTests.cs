namespace IntervalNotifier.Tests.Stress;

/// <summary>Concurrent two-pass invalidations: bounded in time, seeded, the seed printed on failure.</summary>
[Trait("Category", "Stress")]
public sealed class TwoPassStressTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1001)]
    [InlineData(1002)]
    public void FourThreads_OverlappingInvalidations_EveryHitIsFinishedOrFallsBack_NoRecordHeldTwice(int seed)
    {
        const int Threads = 4;
        const int DeviceCount = 12;
        var pool = new FinishRecordPool<DeviceRecord>(6, AllocationFaults.Random(0.2, seed));
        var space = new AddressSpace();
        var devices = new TwoPassDevice[DeviceCount];
        var hits = new int[DeviceCount];
        for (int i = 0; i < DeviceCount; i++)
        {
            devices[i] = new TwoPassDevice($"d{i}", pool);
            space.Subscribe((ulong)i * 100, 150, devices[i]); // neighbours overlap
        }

        var stop = DateTime.UtcNow + Waiting.Stress(TimeSpan.FromSeconds(1));
        int invalidations = 0;
        Task[] workers = [.. Enumerable.Range(0, Threads).Select(t => Waiting.OnThread(() =>
        {
            var random = new Random(seed * 7 + t);
            while (DateTime.UtcNow < stop)
            {
                ulong start = (ulong)random.Next(0, 1300);
                ulong end = start + (ulong)random.Next(1, 400);
                var range = new InvalidationRange(start, end);
                for (int i = 0; i < DeviceCount; i++)
                {
                    if (range.Overlaps((ulong)i * 100, (ulong)i * 100 + 149))
                    {
                        Interlocked.Increment(ref hits[i]);
                    }
                }

                space.BeginInvalidation(range).Dispose();
                Interlocked.Increment(ref invalidations);
            }
        }))];

        try
        {
            Assert.True(Waiting.AllComplete(workers), "timed out");
            for (int i = 0; i < DeviceCount; i++)
            {
                Assert.Empty(devices[i].Violations);
                Assert.Equal(hits[i], devices[i].Starts);
                Assert.Equal(hits[i], devices[i].Finishes + devices[i].Fallbacks);
            }

            Assert.Equal(0, pool.Rented);
            Assert.Equal(0, space.ActiveInvalidations);
            Assert.Equal(0UL, space.Sequence & 1);
            Assert.True(invalidations > 100);
            Assert.True(devices.Sum(d => d.Fallbacks) > 0);
            Assert.True(devices.Sum(d => d.Finishes) > 0);
            output.WriteLine($"{invalidations} invalidations, {devices.Sum(d => d.Finishes)} finishes, {devices.Sum(d => d.Fallbacks)} fallbacks");
        }
        catch
        {
            output.WriteLine($"seed = {seed}");
            throw;
        }
        finally
        {
            space.Dispose();
        }
    }
}
