using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace IntervalNotifier.Collections;

// The overlap walk that the enumerators run: the node scans (vector and scalar) and the descent
// from candidate child to candidate child.
public sealed partial class IntervalTree<T>
{
    // NextCandidate's answer when no child at or after the one asked about can overlap the
    // query: one of them starts after the query's last, and so does everything after it.
    private const int Ended = -1;

    // ---- The overlap walk. Keys ascend by start, so within a node the entries (or children)
    // ---- whose start is past the query's last form a suffix, and once the walk meets one it is
    // ---- over. Before that, an entry is a hit when its last reaches the query's start, and a
    // ---- child is worth entering when its largest last does. The first child worth entering
    // ---- holds the first hit or else holds an entry past the query, so the walk never backs up
    // ---- more than to climb to the next candidate: O(log n + k) nodes. When the walk moves on
    // ---- to another leaf, it goes on from the leaf's slot in its parent (recorded by the
    // ---- descent) instead of searching the parent for it, and a leaf whose next sibling starts
    // ---- at or before the query's last is scanned by its lasts alone, all of it in one pass
    // ---- (OverlapEnumerator.MoveToNextLeaf). On nested data: 0.76x the time at 10^3, 0.83x at
    // ---- 10^6; random small data, where both are rare, unchanged. Measured and not kept: the
    // ---- lasts-only pass for branches too (their first candidate is usually in the first
    // ---- chunk, which a whole-node pass cannot stop at).
    // ---- Measured and not kept: starting a node's scan at a look-back bound (the largest length
    // ---- under each child, the slot found by counting or binary-searching the starts). It makes
    // ---- the loads of the lasts wait for those of the starts, where a scan from slot 0 issues
    // ---- them together: slower at 10^5 and 10^6, by more than it saved in cache lines.

    // Scans the 8 slots [chunk, chunk + 8) of one node's ascending `starts` and their `lasts`
    // (slots at or past `count` are ignored): returns one bit per slot whose start is at most
    // `last` and whose last is at least `start`, and sets `past` when some slot starts after
    // `last`. The callers stop at the first chunk that is past: measured, touching only the
    // chunks up to the query's end beats scanning whole nodes without a branch (fewer cache
    // lines of the level above the leaves stay in the way), from n = 10^4 on.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ScanChunk(ref ulong starts, ref ulong lasts, int chunk, int count, ulong start, ulong last, out bool past)
    {
        int n = count - chunk;
        ulong valid = n >= 8 ? 0xFFUL : (1UL << n) - 1;
        ulong after;
        ulong reach;
        if (Vector512.IsHardwareAccelerated)
        {
            reach = ScanChunk512(ref starts, ref lasts, chunk, start, last, out after);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            reach = ScanChunk256(ref starts, ref lasts, chunk, start, last, out after);
        }
        else
        {
            reach = ScanChunkScalar(ref starts, ref lasts, chunk, start, last, out after);
        }

        after &= valid;
        past = after != 0;

        // Starts ascend, so the slots past `last` are a suffix: clearing them leaves the hits before it.
        return reach & valid & ~after;
    }

    // One bit per slot of the first `count` (at most 64) of `lasts` whose last is at least `start`.
    private static ulong ReachMask(ref ulong lasts, int count, ulong start)
    {
        ulong reach = 0;
        for (int chunk = 0; chunk < count; chunk += 8)
        {
            ulong below = Vector256.IsHardwareAccelerated ? Below256(ref lasts, chunk, start) : BelowScalar(ref lasts, chunk, start);
            reach |= (~below & 0xFF) << chunk;
        }

        return count == 64 ? reach : reach & ((1UL << count) - 1);
    }

    // The 8 slots [chunk, chunk + 8) (all of them, whatever the node's count): one bit per slot
    // whose last is at least `start`, and in `after` one bit per slot whose start is past `last`.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong ScanChunk512(ref ulong starts, ref ulong lasts, int chunk, ulong start, ulong last, out ulong after)
    {
        Vector512<ulong> s = Vector512.LoadUnsafe(ref starts, (nuint)chunk);
        Vector512<ulong> l = Vector512.LoadUnsafe(ref lasts, (nuint)chunk);
        after = Vector512.GreaterThan(s, Vector512.Create(last)).ExtractMostSignificantBits();
        return ~Vector512.GreaterThan(Vector512.Create(start), l).ExtractMostSignificantBits() & 0xFF;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong ScanChunk256(ref ulong starts, ref ulong lasts, int chunk, ulong start, ulong last, out ulong after)
    {
        Vector256<ulong> q = Vector256.Create(last);
        after = Vector256.GreaterThan(Vector256.LoadUnsafe(ref starts, (nuint)chunk), q).ExtractMostSignificantBits()
            | (Vector256.GreaterThan(Vector256.LoadUnsafe(ref starts, (nuint)chunk + 4), q).ExtractMostSignificantBits() << 4);

        return ~Below256(ref lasts, chunk, start) & 0xFF;
    }

    internal static ulong ScanChunkScalar(ref ulong starts, ref ulong lasts, int chunk, ulong start, ulong last, out ulong after)
    {
        after = 0;
        for (int i = 0; i < 8; i++)
        {
            after |= (Unsafe.Add(ref starts, chunk + i) > last ? 1UL : 0) << i;
        }

        return ~BelowScalar(ref lasts, chunk, start) & 0xFF;
    }

    // One bit per slot of [chunk, chunk + 8) whose last is below `start` (the scans' and
    // ReachMask's test, negated). last >= start as "not start > last": one compare where an
    // unsigned >= takes two (AVX2 has neither; each is a biased signed compare), measured cheaper.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Below256(ref ulong lasts, int chunk, ulong start)
    {
        Vector256<ulong> r = Vector256.Create(start);
        return Vector256.GreaterThan(r, Vector256.LoadUnsafe(ref lasts, (nuint)chunk)).ExtractMostSignificantBits()
            | (Vector256.GreaterThan(r, Vector256.LoadUnsafe(ref lasts, (nuint)chunk + 4)).ExtractMostSignificantBits() << 4);
    }

    private static ulong BelowScalar(ref ulong lasts, int chunk, ulong start)
    {
        ulong below = 0;
        for (int i = 0; i < 8; i++)
        {
            below |= (Unsafe.Add(ref lasts, chunk + i) < start ? 1UL : 0) << i;
        }

        return below;
    }

    // A hint to bring the line at `at` into every cache level; no effect on the result (a stale
    // address, after the object moved, only wastes the hint).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(ref byte at)
    {
        if (Sse.IsSupported)
        {
            Sse.Prefetch0(Unsafe.AsPointer(ref at));
        }
    }

    // The first child of `branch` at or after slot `from` that may hold an overlap of
    // [start, last]; branch.Count if none does (the walk goes on in the parent); Ended if the
    // walk is over.
    private static int NextCandidate(Branch branch, int from, ulong start, ulong last)
    {
        int count = branch.Count;
        for (int chunk = from & ~7; chunk < count; chunk += 8)
        {
            // The child this chunk may pick is needed as soon as the scan ends: fetch its slot's
            // line alongside the keys' instead of after them.
            Prefetch(ref Unsafe.As<Node?, byte>(ref branch.Children[chunk]));
            ulong hits = ScanChunk(ref branch.MinStarts[0], ref branch.MaxLasts[0], chunk, count, start, last, out bool past);
            if (from > chunk)
            {
                hits &= ~0UL << (from - chunk);
            }

            if (hits != 0)
            {
                return chunk + BitOperations.TrailingZeroCount(hits);
            }

            if (past)
            {
                return Ended;
            }
        }

        return count;
    }
}
