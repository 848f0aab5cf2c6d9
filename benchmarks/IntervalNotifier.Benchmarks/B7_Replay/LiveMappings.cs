namespace IntervalNotifier.Benchmarks.B7_Replay;

/// <summary>
/// The mappings the device mirrors now, for the readers to pick from at random. Only the writer
/// adds and removes (swap with the last); readers read without a lock and may pick a mapping
/// that is being removed — the fault path then finds it gone.
/// </summary>
internal sealed class LiveMappings
{
    private MirroredMapping?[] _items = new MirroredMapping?[256];
    private int _count;

    public void Add(MirroredMapping mapping)
    {
        if (_count == _items.Length)
        {
            var larger = new MirroredMapping?[_items.Length * 2];
            Array.Copy(_items, larger, _count);
            Volatile.Write(ref _items, larger);
        }

        mapping.LiveIndex = _count;
        Volatile.Write(ref _items[_count], mapping);
        Volatile.Write(ref _count, _count + 1);
    }

    public void Remove(MirroredMapping mapping)
    {
        int at = mapping.LiveIndex;
        int last = _count - 1;
        MirroredMapping moved = _items[last]!;
        Volatile.Write(ref _items[at], moved);
        moved.LiveIndex = at;
        Volatile.Write(ref _items[last], null);
        Volatile.Write(ref _count, last);
        mapping.LiveIndex = -1;
    }

    public MirroredMapping? Pick(ulong random)
    {
        MirroredMapping?[] items = Volatile.Read(ref _items);
        int count = Math.Min(Volatile.Read(ref _count), items.Length);
        return count == 0 ? null : Volatile.Read(ref items[(int)(random % (ulong)count)]);
    }
}
