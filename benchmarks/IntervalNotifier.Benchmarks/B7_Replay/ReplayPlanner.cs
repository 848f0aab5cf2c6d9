namespace IntervalNotifier.Benchmarks.B7_Replay;

/// <summary>
/// Turns a trace's calls into a <see cref="ReplayPlan"/>: one address space per process, the
/// device's subscribes and unsubscribes as its mappings come and go, and the invalidations
/// each call causes.
/// </summary>
/// <remarks>
/// <para>strace's <c>-f</c> prints a thread's calls under its own id and the six traced calls
/// say nothing of clone or exec, so processes are told apart this way: a process starts at its
/// first <c>brk(NULL)</c> (the dynamic loader's first call after exec), or at a later one that
/// reports another break (an exec in a known pid); any other new pid is a thread of the process
/// started last that is still alive. A process ends when its first pid exits.</para>
/// <para>Mappings the kernel made before the trace (the executable, the stack, the vDSO) are
/// unknown: calls on them still invalidate (a device would see those invalidations, hitting
/// nothing of its own), but nothing is subscribed for them.</para>
/// </remarks>
public sealed class ReplayPlanner
{
    /// <summary>The page size ranges are rounded to.</summary>
    public const ulong PageSize = 4096;

    private readonly Dictionary<int, Process> _byPid = [];
    private readonly List<ReplayOp> _ops = [];
    private readonly List<int> _affected = [];
    private readonly Dictionary<string, int> _counts = [];
    private readonly List<int> _ids = [];
    private readonly List<(ulong Start, ulong End)> _remainders = [];
    private Process? _latest;
    private int _processes;
    private int _mappings;
    private int _events;
    private int _fixedOverLive;
    private int _peak;

    private sealed class Process(int index, int leader)
    {
        public int Index { get; } = index;

        public int Leader { get; } = leader;

        public ProcessMap Map { get; } = new();

        public ulong Break { get; set; }

        public bool Alive { get; set; } = true;
    }

    /// <summary>Plans the replay of <paramref name="calls"/>; at the end, every live mapping is unsubscribed.</summary>
    public static ReplayPlan Plan(IEnumerable<MemoryCall> calls)
    {
        var planner = new ReplayPlanner();
        foreach (MemoryCall call in calls)
        {
            planner.Add(call);
        }

        return planner.Finish();
    }

    /// <summary>The live mappings of every process so far (for the tests' model check).</summary>
    public IEnumerable<(int Process, ProcessMap Map)> LiveProcesses =>
        _byPid.Values.Distinct().Where(p => p.Alive).Select(p => (p.Index, p.Map));

    /// <summary>The steps planned so far.</summary>
    public IReadOnlyList<ReplayOp> Ops => _ops;

    /// <summary>Plans one call.</summary>
    public void Add(MemoryCall call)
    {
        _events++;
        string name = call.Kind.ToString().ToLowerInvariant();
        _counts[name] = _counts.GetValueOrDefault(name) + 1;
        if (call.Kind == MemoryCallKind.Exit)
        {
            if (_byPid.Remove(call.Pid, out Process? gone) && gone.Leader == call.Pid && gone.Alive)
            {
                End(gone);
            }

            return;
        }

        Process process = ProcessOf(call);
        ulong start = call.Address & ~(PageSize - 1);
        switch (call.Kind)
        {
            case MemoryCallKind.Mmap:
                Map(process, call.Result, call.Length);
                break;
            case MemoryCallKind.Munmap:
                Invalidate(process, start, End(call.Address, call.Length), InvalidationEvent.Unmap);
                break;
            case MemoryCallKind.Mprotect:
                Invalidate(process, start, End(call.Address, call.Length), InvalidationEvent.ProtectionVma);
                break;
            case MemoryCallKind.Madvise when call.Discards:
                Invalidate(process, start, End(call.Address, call.Length), InvalidationEvent.Clear);
                break;
            case MemoryCallKind.Mremap:
                Remap(process, call);
                break;
            case MemoryCallKind.Brk:
                MoveBreak(process, call.Result);
                break;
            default:
                break; // madvise that keeps the pages (DONTFORK, HUGEPAGE, WILLNEED …): nothing changes
        }
    }

    /// <summary>Unsubscribes what is still mapped and returns the plan.</summary>
    public ReplayPlan Finish()
    {
        foreach (Process p in _byPid.Values.Distinct().Where(p => p.Alive).ToList())
        {
            End(p);
        }

        return new ReplayPlan
        {
            Ops = _ops,
            Affected = [.. _affected],
            MappingCount = _mappings,
            ProcessCount = _processes,
            Events = _events,
            CallCounts = _counts,
            FixedOverLive = _fixedOverLive,
            PeakSubscriptions = _peak,
        };
    }

    private Process ProcessOf(MemoryCall call)
    {
        bool startsImage = call.Kind == MemoryCallKind.Brk && call.Address == 0;
        if (_byPid.TryGetValue(call.Pid, out Process? known) && !known.Alive)
        {
            _byPid.Remove(call.Pid); // a thread that outlived its process's first pid
            known = null;
        }

        if (known is not null)
        {
            if (!startsImage || (known.Leader == call.Pid && known.Break == call.Result))
            {
                return known;
            }

            if (known.Leader == call.Pid && known.Alive)
            {
                End(known); // exec: the old image is gone
            }
        }
        else if (!startsImage && _latest is { Alive: true } latest)
        {
            _byPid[call.Pid] = latest; // a thread of the process started last
            return latest;
        }

        var process = new Process(_processes++, call.Pid) { Break = startsImage ? call.Result : 0 };
        _byPid[call.Pid] = process;
        _latest = process;
        return process;
    }

    private void Map(Process process, ulong start, ulong length)
    {
        ulong end = End(start, length);
        if (end <= start)
        {
            return;
        }

        if (process.Map.Overlaps(start, end))
        {
            _fixedOverLive++;
            Invalidate(process, start, end, InvalidationEvent.Unmap);
        }

        Subscribe(process, start, end);
    }

    private void Remap(Process process, MemoryCall call)
    {
        ulong oldStart = call.Address;
        ulong oldEnd = End(call.Address, call.Length);
        ulong newEnd = End(call.Result, call.NewLength);
        if (call.Result == oldStart && !call.Fixed)
        {
            if (newEnd < oldEnd)
            {
                Invalidate(process, newEnd, oldEnd, InvalidationEvent.Unmap); // shrunk in place
            }
            else if (newEnd > oldEnd)
            {
                Map(process, oldEnd, newEnd - oldEnd); // grown in place: nothing mirrored changes
            }

            return;
        }

        if (oldEnd > oldStart)
        {
            Invalidate(process, oldStart, oldEnd, InvalidationEvent.Unmap); // moved: the old range goes
        }

        Map(process, call.Result, call.NewLength);
    }

    private void MoveBreak(Process process, ulong newBreak)
    {
        ulong old = AlignUp(process.Break);
        ulong now = AlignUp(newBreak);
        if (process.Break == 0 || now == old)
        {
            process.Break = newBreak;
            return;
        }

        process.Break = newBreak;
        if (now > old)
        {
            Map(process, old, now - old);
        }
        else
        {
            Invalidate(process, now, old, InvalidationEvent.Unmap);
        }
    }

    /// <summary>The invalidation; for Unmap, then the unsubscribes and the re-subscribes of what remains.</summary>
    private void Invalidate(Process process, ulong start, ulong end, InvalidationEvent kind)
    {
        if (end <= start)
        {
            return;
        }

        _ids.Clear();
        process.Map.Overlapping(start, end, _ids);
        _ops.Add(new ReplayOp(ReplayOpKind.Invalidate, process.Index, -1, start, end, kind, _affected.Count, _ids.Count));
        _affected.AddRange(_ids);
        if (kind != InvalidationEvent.Unmap || _ids.Count == 0)
        {
            return;
        }

        _ids.Clear();
        _remainders.Clear();
        process.Map.Remove(start, end, _ids, _remainders);
        foreach (int id in _ids)
        {
            _ops.Add(new ReplayOp(ReplayOpKind.Unsubscribe, process.Index, id, 0, 0));
        }

        foreach ((ulong s, ulong e) in _remainders)
        {
            Subscribe(process, s, e);
        }
    }

    private void Subscribe(Process process, ulong start, ulong end)
    {
        int id = _mappings++;
        process.Map.Add(id, start, end);
        _peak = Math.Max(_peak, process.Map.Mappings.Count);
        _ops.Add(new ReplayOp(ReplayOpKind.Subscribe, process.Index, id, start, end));
    }

    private void End(Process process)
    {
        process.Alive = false;
        _ids.Clear();
        process.Map.Clear(_ids);
        foreach (int id in _ids)
        {
            _ops.Add(new ReplayOp(ReplayOpKind.Unsubscribe, process.Index, id, 0, 0));
        }
    }

    private static ulong AlignUp(ulong value) => value > ulong.MaxValue - (PageSize - 1) ? ulong.MaxValue & ~(PageSize - 1) : (value + PageSize - 1) & ~(PageSize - 1);

    /// <summary>The page-aligned end of <c>[start, start + length)</c>, clamped below 2^64.</summary>
    private static ulong End(ulong start, ulong length) => length > ulong.MaxValue - start ? AlignUp(ulong.MaxValue - PageSize) : AlignUp(start + length);
}
