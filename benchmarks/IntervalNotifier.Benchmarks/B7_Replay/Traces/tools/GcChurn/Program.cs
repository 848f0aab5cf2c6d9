// B7 trace workload for .NET: a console program whose GC has real work to do — short-lived
// objects, a surviving working set that is replaced every round, large-object-heap arrays,
// and explicit compacting collections — so the runtime maps, decommits, protects and discards
// heap memory as a real .NET service does.
using System.Runtime;

int rounds = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 30;
var survivors = new List<object>();
long checksum = 0;
for (int r = 0; r < rounds; r++)
{
    for (int i = 0; i < 200_000; i++)
    {
        var s = new string((char)('a' + i % 26), 16 + i % 48);
        checksum += s.Length;
        if (i % 16 == 0)
        {
            survivors.Add(s);
        }
    }

    var large = new List<byte[]>();
    for (int i = 0; i < 24; i++)
    {
        large.Add(new byte[256 * 1024 + i * 4096]);
    }

    checksum += large.Count;
    if (r % 5 == 4)
    {
        survivors = [.. survivors.Skip(survivors.Count / 2)];
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }
}

Console.WriteLine($"rounds={rounds} checksum={checksum} gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)}");
