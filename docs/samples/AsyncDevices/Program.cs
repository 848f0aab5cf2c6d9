// Devices whose completion is awaitable (docs/contract.md §9): 100 invalidations of disjoint
// ranges begun at once from one thread, each with 4 devices of 20 ms. No thread is blocked per
// device, so they all overlap: the whole run takes about one device's latency, not 100 × 20 ms.
// Exits 0 only if every begin completed after all its devices, every record went back, and the
// run took less than 10 × the latency.
using System.Diagnostics;
using IntervalNotifier;

const int Invalidations = 100;
const int DevicesPerRange = 4;
TimeSpan latency = TimeSpan.FromMilliseconds(20);

var pool = new FinishRecordPool<FenceRecord>(Invalidations * DevicesPerRange);
await using var space = new AddressSpace(new AddressSpaceOptions { Name = "async" });
var devices = new List<Gpu>();
for (int r = 0; r < Invalidations; r++)
{
    for (int d = 0; d < DevicesPerRange; d++)
    {
        var gpu = new Gpu(pool, latency);
        devices.Add(gpu);
        space.Subscribe((ulong)r * 0x10000, 0x1000, gpu);
    }
}

var watch = Stopwatch.StartNew();
var begins = new List<Task<InvalidationScope>>();
for (int r = 0; r < Invalidations; r++)
{
    // The start pass runs here, synchronously; the finishes are awaited together.
    begins.Add(space.BeginInvalidationAsync(new InvalidationRange((ulong)r * 0x10000, ((ulong)r * 0x10000) + 0x1000)).AsTask());
}

bool allPendingAtOnce = begins.All(b => !b.IsCompleted); // none blocked this thread
foreach (InvalidationScope scope in await Task.WhenAll(begins))
{
    scope.Dispose(); // an asynchronous scope may be disposed on any thread
}

watch.Stop();
int early = devices.Count(d => d.CompletedBeforeItsBegin);
Console.WriteLine($"{Invalidations} asynchronous invalidations × {DevicesPerRange} devices of {latency.TotalMilliseconds} ms: {watch.Elapsed.TotalMilliseconds:0} ms in all; all pending at once: {allPendingAtOnce}; records out: {pool.Rented}");
bool ok = allPendingAtOnce && early == 0 && pool.Rented == 0 && devices.All(d => d.Finished == 1) && watch.Elapsed < latency * 10;
Console.WriteLine(ok ? "ok" : "FAILED");
return ok ? 0 : 1;

/// <summary>The device's completion, carried from the start pass to the finish.</summary>
internal sealed class FenceRecord : FinishRecord
{
    public Task Fence = Task.CompletedTask;

    public override bool TryReset()
    {
        Fence = Task.CompletedTask;
        return true;
    }
}

/// <summary>An awaitable device: the start pass starts its work, the finish awaits it.</summary>
internal sealed class Gpu(FinishRecordPool<FenceRecord> pool, TimeSpan latency) : IAsyncTwoPassIntervalInvalidator
{
    private int _finished;

    public int Finished => Volatile.Read(ref _finished);

    public bool CompletedBeforeItsBegin { get; private set; }

    public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
    {
        subscription.SetSequence(currentSequence);
        Task fence = Task.Delay(latency); // the device's work; a start pass never awaits
        if (pool.TryRent(out FenceRecord? record))
        {
            record.Fence = fence;
            finish = record;
            return true;
        }

        fence.Wait(); // the fallback
        Interlocked.Increment(ref _finished);
        finish = null;
        return true;
    }

    public async ValueTask InvalidateFinishAsync(FinishRecord finish)
    {
        await ((FenceRecord)finish).Fence.ConfigureAwait(false);
        Interlocked.Increment(ref _finished);
    }

    public void InvalidateFinish(FinishRecord finish)
    {
        ((FenceRecord)finish).Fence.Wait();
        Interlocked.Increment(ref _finished);
    }
}
