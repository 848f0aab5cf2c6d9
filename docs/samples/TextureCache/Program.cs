// An emulator's texture cache over guest memory (docs/guide.md, "Caching derived values"): render
// threads decode textures from guest pages through a CoherentCache, while CPU threads write the
// guest memory. Exits 0 only if no lookup ever returned a texture decoded from a page older than
// the last write to it that had completed before the lookup began (the oracle below).
using IntervalNotifier;
using IntervalNotifier.Caching;

// ---- The user's code: guest memory, the cache, a write helper, and a decode. ----
const ulong PageSize = 0x1000;
const int Pages = 4096;                       // 16 MiB of guest memory
var guest = new long[Pages];                  // each page's content, as a version number
using var space = new AddressSpace(new AddressSpaceOptions { Name = "guest" });
using var textures = new CoherentCache<Texture>(space, new CoherentCacheOptions
{
    Name = "textures",
    Granularity = args.Length > 0 ? ulong.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) * 1024 : 64 * 1024, // one subscription per 64 KiB of guest memory
    SizeLimit = 512,
});

// A CPU store to guest memory: bracketed, so that every texture it overlaps is dropped first.
long Write(int firstPage, int pageCount)
{
    using (space.BeginInvalidation(new InvalidationRange((ulong)firstPage * PageSize, (ulong)(firstPage + pageCount) * PageSize)))
    {
        long wrote = 0;
        for (int p = firstPage; p < firstPage + pageCount; p++)
        {
            wrote = Interlocked.Increment(ref guest[p]);
        }

        return wrote;
    }
}

// A draw: the texture at [address, address + size), decoded on a miss (outside every lock).
Texture Lookup(ulong address, ulong size) =>
    textures.GetOrAdd(address, size, static (start, length, memory) =>
    {
        var pages = new long[length / PageSize];
        for (int i = 0; i < pages.Length; i++)
        {
            pages[i] = Volatile.Read(ref memory[(int)(start / PageSize) + i]); // "decode"
        }

        return new Texture(start, pages);
    }, guest);

// ---- The driver and the oracle: not part of the user's code. ----
var completed = new long[Pages];              // per page: the version its last completed write left
int stale = 0, lookups = 0, writes = 0;
using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
var threads = new List<Thread>();
for (int w = 0; w < 3; w++)
{
    int seed = w;
    threads.Add(new Thread(() =>
    {
        var random = new Random(seed);
        while (!stop.IsCancellationRequested)
        {
            int first = random.Next(Pages - 4), count = 1 + random.Next(4);
            Write(first, count);
            for (int p = first; p < first + count; p++)
            {
                long now = Volatile.Read(ref guest[p]);
                for (long seen = Volatile.Read(ref completed[p]); seen < now && Interlocked.CompareExchange(ref completed[p], now, seen) != seen; seen = Volatile.Read(ref completed[p]))
                {
                }
            }

            Interlocked.Increment(ref writes);
            Thread.Sleep(0);
        }
    }));
}

for (int r = 0; r < 2; r++)
{
    int seed = 100 + r;
    threads.Add(new Thread(() =>
    {
        var random = new Random(seed);
        while (!stop.IsCancellationRequested)
        {
            int first = random.Next(Pages / 16) * 16, count = 1 << random.Next(5); // 4-64 KiB textures
            long[] floor = completed.AsSpan(first, count).ToArray();
            Texture texture = Lookup((ulong)first * PageSize, (ulong)count * PageSize);
            for (int i = 0; i < count; i++)
            {
                if (texture.Pages[i] < floor[i])
                {
                    Interlocked.Increment(ref stale);
                }
            }

            Interlocked.Increment(ref lookups);
        }
    }));
}

threads.ForEach(t => t.Start());
threads.ForEach(t => t.Join());
Console.WriteLine($"granularity {textures.Granularity / 1024} KiB: {lookups:N0} lookups ({textures.Count} textures cached), {writes:N0} writes; stale textures returned: {stale}");
return stale == 0 ? 0 : 1;

/// <summary>A decoded texture: here, the versions of the guest pages it was decoded from.</summary>
internal sealed record Texture(ulong Address, long[] Pages);
