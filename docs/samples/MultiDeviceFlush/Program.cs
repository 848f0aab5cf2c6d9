// N devices flush their copies of a range; two-pass invalidation overlaps their waits
// (docs/contract.md §6). A pool smaller than the number of devices forces the single-pass
// fallback for some of them. Exits 0 only if every device flushed once per invalidation, every
// record went back to its pool, and two-pass was faster than single-pass.
// Pass a number of seconds to keep invalidating (e.g. to watch it with dotnet-counters).
using System.Diagnostics;
using IntervalNotifier;

const int Devices = 8;
TimeSpan latency = TimeSpan.FromMilliseconds(2);
double seconds = args.Length > 0 && double.TryParse(args[0], System.Globalization.CultureInfo.InvariantCulture, out double s) ? s : 0;

using var twoPassSpace = new AddressSpace(new AddressSpaceOptions { Name = "flush" });
using var singlePassSpace = new AddressSpace(new AddressSpaceOptions { Name = "flush-single" });
var pool = new FinishRecordPool<FlushRecord>(capacity: Devices - 2); // two devices will fall back
var devices = new List<Device>();
for (int i = 0; i < Devices; i++)
{
    var device = new Device(latency, pool);
    devices.Add(device);
    twoPassSpace.Subscribe(0, 0x10000, device);
    singlePassSpace.Subscribe(0, 0x10000, new SinglePassDevice(latency));
}

var range = new InvalidationRange(0, 0x1000);
singlePassSpace.BeginInvalidation(range).Dispose(); // warm up both
twoPassSpace.BeginInvalidation(range).Dispose();
var watch = Stopwatch.StartNew();
singlePassSpace.BeginInvalidation(range).Dispose();
TimeSpan single = watch.Elapsed;
watch.Restart();
twoPassSpace.BeginInvalidation(range).Dispose();
TimeSpan twoPass = watch.Elapsed;

int invalidations = 2;
var until = Stopwatch.StartNew();
while (until.Elapsed.TotalSeconds < seconds)
{
    twoPassSpace.BeginInvalidation(range).Dispose();
    invalidations++;
}

int flushes = devices.Sum(d => d.Flushes);
int fallbacks = devices.Sum(d => d.Fallbacks);
Console.WriteLine($"{Devices} devices, {latency.TotalMilliseconds} ms flush each: single-pass {single.TotalMilliseconds:0.0} ms, two-pass {twoPass.TotalMilliseconds:0.0} ms");
Console.WriteLine($"{invalidations} two-pass invalidations: {flushes} flushes ({fallbacks} fell back to single-pass: the pool has {pool.Capacity} records), {pool.Rented} records still out");
bool ok = flushes == Devices * invalidations && pool.Rented == 0 && twoPass < single && fallbacks >= 2 * invalidations;
Console.WriteLine(ok ? "ok" : "FAILED");
return ok ? 0 : 1;

/// <summary>What the finish pass needs: when the flush the start pass began is done.</summary>
internal sealed class FlushRecord : FinishRecord
{
    public long Deadline;

    public override bool TryReset()
    {
        Deadline = 0;
        return true;
    }
}

/// <summary>A device whose flush takes a fixed time (modelled as a deadline; the device does no CPU work).</summary>
internal sealed class Device(TimeSpan latency, FinishRecordPool<FlushRecord> pool) : ITwoPassIntervalInvalidator
{
    private int _flushes;
    private int _fallbacks;

    public int Flushes => Volatile.Read(ref _flushes);

    public int Fallbacks => Volatile.Read(ref _fallbacks);

    public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
    {
        subscription.SetSequence(currentSequence);
        long deadline = Stopwatch.GetTimestamp() + (long)(latency.TotalSeconds * Stopwatch.Frequency); // start the flush
        if (pool.TryRent(out FlushRecord? record))
        {
            record.Deadline = deadline;
            finish = record;
            return true;
        }

        Interlocked.Increment(ref _fallbacks);  // no record: finish here (the single-pass fallback)
        Wait(deadline);
        finish = null;
        return true;
    }

    public void InvalidateFinish(FinishRecord finish) => Wait(((FlushRecord)finish).Deadline);

    private void Wait(long deadline)
    {
        while (Stopwatch.GetTimestamp() < deadline)
        {
            Thread.SpinWait(20);
        }

        Interlocked.Increment(ref _flushes);
    }
}

/// <summary>The same device, single-pass: start the flush and wait for it.</summary>
internal sealed class SinglePassDevice(TimeSpan latency) : IIntervalInvalidator
{
    public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
    {
        subscription.SetSequence(currentSequence);
        long deadline = Stopwatch.GetTimestamp() + (long)(latency.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            Thread.SpinWait(20);
        }

        return true;
    }
}
