using System.Diagnostics;

namespace IntervalNotifier.Benchmarks.B7_Replay;

/// <summary>
/// Replays a <see cref="ReplayPlan"/> over one kind of address space (one per process): the
/// calling thread is the trace (subscribes, invalidations, unsubscribes, each timed), and
/// reader threads fault random sample pages of random live mappings through the §3 fault path
/// meanwhile. The page-version oracle counts every page a mirror published older than the
/// primary, and every page it still held after an invalidation of it began.
/// </summary>
public static class ReplayRunner
{
    private static readonly bool DebugBytes = Environment.GetEnvironmentVariable("B7_DEBUG_BYTES") == "1";

    public static ReplayRun Run(ReplayPlan plan, Func<IReplaySpace> createSpace, int readerCount)
    {
        var spaces = new IReplaySpace?[plan.ProcessCount];
        var locks = new object?[plan.ProcessCount];
        var mappings = new MirroredMapping?[plan.MappingCount];
        var live = new LiveMappings();
        var ticks = new long[plan.Ops.Count];
        var invalidated = new bool[plan.ProcessCount];
        var readers = new Readers(live, readerCount);
        long bytes = 0, firstBytes = 0, staleKept = 0;
        int steady = 0;
        ulong version = 1;
        readers.Start();
        try
        {
            for (int step = 0; step < plan.Ops.Count; step++)
            {
                ReplayOp op = plan.Ops[step];
                IReplaySpace space = spaces[op.Process] ??= createSpace();
                switch (op.Kind)
                {
                    case ReplayOpKind.Subscribe:
                    {
                        var mapping = new MirroredMapping(op.Mapping, locks[op.Process] ??= new object(), space, op.Start, op.End, ++version);
                        long t0 = Stopwatch.GetTimestamp();
                        space.Subscribe(mapping);
                        ticks[step] = Stopwatch.GetTimestamp() - t0;
                        mappings[op.Mapping] = mapping;
                        live.Add(mapping);
                        break;
                    }

                    case ReplayOpKind.Unsubscribe:
                    {
                        MirroredMapping mapping = mappings[op.Mapping]!;
                        mappings[op.Mapping] = null;
                        live.Remove(mapping);
                        lock (mapping.DeviceLock)
                        {
                            mapping.Alive = false; // the device drops its copy of the mapping
                        }

                        long t0 = Stopwatch.GetTimestamp();
                        space.Unsubscribe(mapping);
                        ticks[step] = Stopwatch.GetTimestamp() - t0;
                        break;
                    }

                    default:
                    {
                        ulong last = op.End - 1;
                        long b0 = GC.GetAllocatedBytesForCurrentThread();
                        long t0 = Stopwatch.GetTimestamp();
                        space.BeginInvalidation(op.Start, last, op.Event);
                        long t1 = Stopwatch.GetTimestamp();
                        long b1 = GC.GetAllocatedBytesForCurrentThread();
                        for (int i = op.AffectedFrom; i < op.AffectedFrom + op.AffectedCount; i++)
                        {
                            mappings[plan.Affected[i]]!.ChangePrimary(op.Start, last, ref version, op.Event == InvalidationEvent.Unmap);
                        }

                        long b2 = GC.GetAllocatedBytesForCurrentThread();
                        long t2 = Stopwatch.GetTimestamp();
                        space.EndInvalidation();
                        long t3 = Stopwatch.GetTimestamp();
                        long b3 = GC.GetAllocatedBytesForCurrentThread();
                        ticks[step] = t1 - t0 + (t3 - t2);
                        if (!invalidated[op.Process])
                        {
                            invalidated[op.Process] = true; // the first of an address space: its pooled records are created
                            firstBytes += b1 - b0 + (b3 - b2);
                        }
                        else
                        {
                            bytes += b1 - b0 + (b3 - b2);
                            steady++;
                        }

                        if (DebugBytes && b1 - b0 + (b3 - b2) > 0)
                        {
                            Console.Error.WriteLine($"op {op} allocated {b1 - b0} + {b3 - b2} B");
                        }
                        for (int i = op.AffectedFrom; i < op.AffectedFrom + op.AffectedCount; i++)
                        {
                            MirroredMapping mapping = mappings[plan.Affected[i]]!;
                            lock (mapping.DeviceLock)
                            {
                                staleKept += mapping.CountStale(op.Start, last);
                            }
                        }

                        break;
                    }
                }
            }
        }
        finally
        {
            readers.Stop();
            foreach (IReplaySpace? space in spaces)
            {
                space?.Dispose();
            }
        }

        return new ReplayRun(ticks, readers.StalePublished, staleKept, readers.Faults, readers.Retries, bytes, steady, firstBytes);
    }
}
