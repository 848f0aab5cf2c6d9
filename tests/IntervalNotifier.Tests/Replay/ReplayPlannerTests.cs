using System.Globalization;
using IntervalNotifier.Benchmarks.B7_Replay;

namespace IntervalNotifier.Tests.Replay;

/// <summary>B7's mapping bookkeeping: the plan's subscriptions against a brute-force model of each address space.</summary>
public sealed class ReplayPlannerTests
{
    private const ulong Page = ReplayPlanner.PageSize;
    private const ulong Base = 0x7f0000000000;

    [Fact]
    public void Plan_MunmapOfTheMiddle_UnmapThenUnsubscribeThenBothRemainders()
    {
        ReplayPlan plan = ReplayPlanner.Plan(
        [
            new MemoryCall(1, 7, MemoryCallKind.Brk, 0, 0, 0x500000),
            new MemoryCall(2, 7, MemoryCallKind.Mmap, 0, 8 * Page, Base),
            new MemoryCall(3, 7, MemoryCallKind.Munmap, Base + (2 * Page), 3 * Page),
        ]);

        Assert.Equal(
            [
                new ReplayOp(ReplayOpKind.Subscribe, 0, 0, Base, Base + (8 * Page)),
                new ReplayOp(ReplayOpKind.Invalidate, 0, -1, Base + (2 * Page), Base + (5 * Page), InvalidationEvent.Unmap, 0, 1),
                new ReplayOp(ReplayOpKind.Unsubscribe, 0, 0, 0, 0),
                new ReplayOp(ReplayOpKind.Subscribe, 0, 1, Base, Base + (2 * Page)),
                new ReplayOp(ReplayOpKind.Subscribe, 0, 2, Base + (5 * Page), Base + (8 * Page)),
                new ReplayOp(ReplayOpKind.Unsubscribe, 0, 1, 0, 0), // the end of the trace
                new ReplayOp(ReplayOpKind.Unsubscribe, 0, 2, 0, 0),
            ],
            plan.Ops);
    }

    [Fact]
    public void Plan_EventsOfEachCall_MatchTheContract()
    {
        ReplayPlan plan = ReplayPlanner.Plan(
        [
            new MemoryCall(1, 7, MemoryCallKind.Brk, 0, 0, 0x500000),
            new MemoryCall(2, 7, MemoryCallKind.Mmap, 0, 8 * Page, Base),
            new MemoryCall(3, 7, MemoryCallKind.Mprotect, Base, Page),
            new MemoryCall(4, 7, MemoryCallKind.Madvise, Base, Page, Discards: true),
            new MemoryCall(5, 7, MemoryCallKind.Madvise, Base, Page),
            new MemoryCall(6, 7, MemoryCallKind.Brk, 0x510000, 0, 0x510000),
            new MemoryCall(7, 7, MemoryCallKind.Brk, 0x508000, 0, 0x508000),
            new MemoryCall(8, 7, MemoryCallKind.Mremap, Base, 8 * Page, Base + (64 * Page), 8 * Page),
        ]);

        Assert.Equal(
            [InvalidationEvent.ProtectionVma, InvalidationEvent.Clear, InvalidationEvent.Unmap, InvalidationEvent.Unmap],
            plan.Ops.Where(o => o.Kind == ReplayOpKind.Invalidate).Select(o => o.Event));
        ReplayOp shrink = plan.Ops.Where(o => o.Kind == ReplayOpKind.Invalidate).ElementAt(2);
        Assert.Equal((0x508000UL, 0x510000UL), (shrink.Start, shrink.End));
    }

    [Fact]
    public void Plan_NewPidWithoutBrk_IsAThreadOfTheLatestProcessAndTheLeadersExitEndsIt()
    {
        ReplayPlan plan = ReplayPlanner.Plan(
        [
            new MemoryCall(1, 10, MemoryCallKind.Brk, 0, 0, 0x500000),
            new MemoryCall(2, 11, MemoryCallKind.Mmap, 0, Page, Base),
            new MemoryCall(3, 11, MemoryCallKind.Munmap, Base, Page),
            new MemoryCall(4, 12, MemoryCallKind.Mmap, 0, Page, Base + Page),
            new MemoryCall(5, 10, MemoryCallKind.Exit, 0, 0),
            new MemoryCall(6, 20, MemoryCallKind.Brk, 0, 0, 0x900000),
        ]);

        Assert.Equal(2, plan.ProcessCount);
        Assert.Equal(1, plan.Ops.Count(o => o.Kind == ReplayOpKind.Invalidate && o.AffectedCount == 1));
        Assert.Equal(ReplayOpKind.Unsubscribe, plan.Ops[^1].Kind); // the leader's exit unsubscribes the thread's mapping
        Assert.Equal(2, plan.Ops.Count(o => o.Kind == ReplayOpKind.Unsubscribe));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Plan_RandomTraceThroughTheParser_SubscriptionsCoverExactlyTheMappedPages(int seed)
    {
        var random = new Random(seed);
        var model = new Dictionary<int, HashSet<ulong>>(); // pid -> mapped pages (brute force)
        var breaks = new Dictionary<int, (ulong Base, ulong Current)>();
        var parser = new StraceParser();
        var planner = new ReplayPlanner();
        int[] pids = [100, 200];
        foreach (int pid in pids)
        {
            ulong heap = 0x1000000UL * (ulong)pid;
            model[pid] = [];
            breaks[pid] = (heap, heap);
            Feed(parser, planner, $"{pid} 07:00:00.000000 brk(NULL) = 0x{heap:x}");
        }

        for (int step = 0; step < 3000; step++)
        {
            int pid = pids[random.Next(pids.Length)];
            HashSet<ulong> pages = model[pid];
            ulong start = Base + ((ulong)random.Next(64) * Page);
            ulong count = (ulong)random.Next(1, 9);
            string line;
            switch (random.Next(6))
            {
                case 0 or 1:
                    line = $"mmap(0x{start:x}, {count * Page}, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0) = 0x{start:x}";
                    Range(start, count).ToList().ForEach(p => pages.Add(p));
                    break;
                case 2:
                    line = $"munmap(0x{start:x}, {count * Page}) = 0";
                    pages.ExceptWith(Range(start, count));
                    break;
                case 3:
                    ulong target = Base + ((ulong)random.Next(64) * Page);
                    ulong newCount = (ulong)random.Next(1, 9);
                    line = $"mremap(0x{start:x}, {count * Page}, {newCount * Page}, MREMAP_MAYMOVE|MREMAP_FIXED, 0x{target:x}) = 0x{target:x}";
                    pages.ExceptWith(Range(start, count));
                    Range(target, newCount).ToList().ForEach(p => pages.Add(p));
                    break;
                case 4:
                    (ulong heapBase, ulong current) = breaks[pid];
                    ulong next = heapBase + ((ulong)random.Next(0, 16) * Page) + (ulong)random.Next(0, 100);
                    line = $"brk(0x{next:x}) = 0x{next:x}";
                    ulong oldEnd = AlignUp(current), newEnd = AlignUp(next);
                    if (newEnd > oldEnd)
                    {
                        Range(oldEnd, (newEnd - oldEnd) / Page).ToList().ForEach(p => pages.Add(p));
                    }
                    else
                    {
                        pages.ExceptWith(Range(newEnd, (oldEnd - newEnd) / Page));
                    }

                    breaks[pid] = (heapBase, next);
                    break;
                default:
                    line = $"mprotect(0x{start:x}, {count * Page}, PROT_READ) = 0";
                    break;
            }

            Feed(parser, planner, $"{pid} 07:00:00.{step:000000} {line}");
            AssertCoverage(planner, model, pids);
        }

        AssertPlanIsConsistent(planner.Finish());
    }

    private static void Feed(StraceParser parser, ReplayPlanner planner, string line)
    {
        int before = parser.Calls.Count;
        parser.ParseLine(line);
        Assert.Equal(0, parser.ProblemCount);
        for (int i = before; i < parser.Calls.Count; i++)
        {
            planner.Add(parser.Calls[i]);
        }
    }

    private static void AssertCoverage(ReplayPlanner planner, Dictionary<int, HashSet<ulong>> model, int[] pids)
    {
        var processes = planner.LiveProcesses.OrderBy(p => p.Process).ToList();
        Assert.Equal(pids.Length, processes.Count);
        for (int i = 0; i < pids.Length; i++)
        {
            var covered = new HashSet<ulong>();
            ulong previousEnd = 0;
            foreach (ProcessMap.Mapping m in processes[i].Map.Mappings)
            {
                Assert.True(m.Start >= previousEnd && m.Start < m.End, "mappings are sorted and disjoint");
                previousEnd = m.End;
                covered.UnionWith(Range(m.Start, (m.End - m.Start) / Page));
            }

            Assert.True(model[pids[i]].SetEquals(covered), string.Create(CultureInfo.InvariantCulture, $"pid {pids[i]}: model {model[pids[i]].Count} pages, plan {covered.Count}"));
        }
    }

    // Replaying the plan's subscribes and unsubscribes: every id subscribed once and unsubscribed once,
    // and each invalidation's affected ids are exactly the live subscriptions it overlaps.
    private static void AssertPlanIsConsistent(ReplayPlan plan)
    {
        var live = new Dictionary<int, (int Process, ulong Start, ulong End)>();
        foreach (ReplayOp op in plan.Ops)
        {
            switch (op.Kind)
            {
                case ReplayOpKind.Subscribe:
                    live.Add(op.Mapping, (op.Process, op.Start, op.End));
                    break;
                case ReplayOpKind.Unsubscribe:
                    Assert.True(live.Remove(op.Mapping));
                    break;
                default:
                    int[] expected = [.. live.Where(l => l.Value.Process == op.Process && l.Value.Start < op.End && op.Start < l.Value.End).Select(l => l.Key).Order()];
                    Assert.Equal(expected, plan.Affected.AsSpan(op.AffectedFrom, op.AffectedCount).ToArray().Order());
                    break;
            }
        }

        Assert.Empty(live);
    }

    private static IEnumerable<ulong> Range(ulong start, ulong pages)
    {
        for (ulong i = 0; i < pages; i++)
        {
            yield return start + (i * Page);
        }
    }

    private static ulong AlignUp(ulong value) => (value + Page - 1) & ~(Page - 1);
}
