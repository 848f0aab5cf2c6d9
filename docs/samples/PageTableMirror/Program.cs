// A page-table mirror on the fault path (docs/contract.md §3), kept coherent while other
// threads change the primary. Exits 0 only if no mirrored page ever differs from the primary
// once an invalidation of it has begun — checked inside every bracket and at the end.
using IntervalNotifier;

const int Pages = 64;
const ulong PageSize = 0x1000;
var primary = new long[Pages];
using var space = new AddressSpace(new AddressSpaceOptions { Name = "page-table" });
var mirror = new PageTableMirror(Pages);
IntervalSubscription subscription = space.Subscribe(0, Pages * PageSize, mirror);

int stale = 0;
long faults = 0, invalidations = 0;
using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
var workers = new List<Thread>();
for (int w = 0; w < 2; w++)
{
    int seed = w;
    workers.Add(new Thread(() =>
    {
        var random = new Random(seed);
        while (!stop.IsCancellationRequested)
        {
            int page = random.Next(Pages);
            mirror.Fault(subscription, page, () => Volatile.Read(ref primary[page]));
            Interlocked.Increment(ref faults);
        }
    }));
}

workers.Add(new Thread(() =>
{
    var random = new Random(42);
    while (!stop.IsCancellationRequested)
    {
        int first = random.Next(Pages);
        int count = 1 + random.Next(Math.Min(4, Pages - first));
        var range = new InvalidationRange((ulong)first * PageSize, (ulong)(first + count) * PageSize);
        using (space.BeginInvalidation(range))
        {
            for (int p = first; p < first + count; p++)
            {
                if (mirror.Holds(p, out _))
                {
                    Interlocked.Increment(ref stale); // a copy survived the begin of its invalidation
                }

                Volatile.Write(ref primary[p], primary[p] + 1); // change the primary inside the bracket
            }
        }

        Interlocked.Increment(ref invalidations);
    }
}));

workers.ForEach(t => t.Start());
workers.ForEach(t => t.Join());
for (int p = 0; p < Pages; p++)
{
    if (mirror.Holds(p, out long copy) && copy != primary[p])
    {
        stale++;
    }
}

Console.WriteLine($"{faults:N0} faults and {invalidations:N0} invalidations on {Pages} pages; stale copies: {stale}");
return stale == 0 ? 0 : 1;

/// <summary>The mirror: one copy per page, guarded by its lock; the invalidator drops the copies it hits.</summary>
internal sealed class PageTableMirror(int pages) : IIntervalInvalidator
{
    private readonly object _lock = new();
    private readonly long?[] _copies = new long?[pages];

    public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
    {
        lock (_lock)
        {
            subscription.SetSequence(currentSequence); // a fault racing us will see it and retry
            for (ulong page = range.Start / 0x1000; page <= range.Last / 0x1000 && page < (ulong)_copies.Length; page++)
            {
                _copies[page] = null;
            }
        }

        return true;
    }

    // The §3 fault path — ReadBegin (no lock held) → read the primary → lock → ReadRetry →
    // publish, starting over if an invalidation intervened — is FaultLoop's; the publish step
    // runs under our lock.
    public void Fault(IntervalSubscription subscription, int page, Func<long> readPrimary) =>
        FaultLoop.Run(subscription, _lock, readPrimary, value => _copies[page] = value);

    public bool Holds(int page, out long copy)
    {
        lock (_lock)
        {
            copy = _copies[page] ?? 0;
            return _copies[page].HasValue;
        }
    }
}
