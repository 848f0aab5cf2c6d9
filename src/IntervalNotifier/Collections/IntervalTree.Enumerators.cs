using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace IntervalNotifier.Collections;

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
    // ---- more than to climb to the next candidate: O(log n + k) nodes.
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
        Vector256<ulong> r = Vector256.Create(start);
        after = Vector256.GreaterThan(Vector256.LoadUnsafe(ref starts, (nuint)chunk), q).ExtractMostSignificantBits()
            | (Vector256.GreaterThan(Vector256.LoadUnsafe(ref starts, (nuint)chunk + 4), q).ExtractMostSignificantBits() << 4);

        // last >= start as "not start > last": one compare where an unsigned >= takes two (AVX2
        // has neither; each is a biased signed compare), measured cheaper.
        ulong below = Vector256.GreaterThan(r, Vector256.LoadUnsafe(ref lasts, (nuint)chunk)).ExtractMostSignificantBits()
            | (Vector256.GreaterThan(r, Vector256.LoadUnsafe(ref lasts, (nuint)chunk + 4)).ExtractMostSignificantBits() << 4);
        return ~below & 0xFF;
    }

    internal static ulong ScanChunkScalar(ref ulong starts, ref ulong lasts, int chunk, ulong start, ulong last, out ulong after)
    {
        after = 0;
        ulong reach = 0;
        for (int i = 0; i < 8; i++)
        {
            after |= (Unsafe.Add(ref starts, chunk + i) > last ? 1UL : 0) << i;
            reach |= (Unsafe.Add(ref lasts, chunk + i) >= start ? 1UL : 0) << i;
        }

        return reach;
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

    // The first leaf that may hold an overlap, from child slot `from` of `branch` on: descends
    // to the first candidate child, climbing to the parent when a branch has none left. Null
    // when the walk is over.
    private static Leaf? Descend(Branch branch, int from, ulong start, ulong last)
    {
        while (true)
        {
            int i = NextCandidate(branch, from, start, last);
            if (i == Ended)
            {
                return null;
            }

            if (i == branch.Count)
            {
                Branch? parent = branch.Parent;
                if (parent is null)
                {
                    return null;
                }

                from = IndexInParent(parent, branch) + 1;
                branch = parent;
                continue;
            }

            Node child = branch.Children[i]!;
            if (child.IsLeaf)
            {
                return Unsafe.As<Leaf>(child);
            }

            branch = Unsafe.As<Branch>(child);
            from = 0;
        }
    }

    /// <summary>The elements of a tree that overlap one closed interval; see <see cref="Overlapping"/>.</summary>
    public readonly struct OverlapEnumerable
    {
        private readonly IntervalTree<T> _tree;
        private readonly ulong _start;
        private readonly ulong _last;

        internal OverlapEnumerable(IntervalTree<T> tree, ulong start, ulong last)
        {
            _tree = tree;
            _start = start;
            _last = last;
        }

        /// <summary>Returns the struct enumerator. Allocates nothing; the walk starts at the first <c>MoveNext</c>.</summary>
        /// <returns>An enumerator positioned before the first overlapping element.</returns>
        [SuppressMessage("ApiDesign", "RS0041:Public members should not use oblivious types", Justification = "Analyzer false positive for a struct nested in a generic type; nothing here is oblivious.")]
        public OverlapEnumerator GetEnumerator() => new(_tree, _start, _last);
    }

    /// <summary>
    /// Enumerates the elements that overlap one closed interval, in ascending start (insertion
    /// order among equal starts). Holds only its position (a leaf, a slot and a bit mask of the
    /// hits left among 8 slots), so it may be moved on from another thread as long as the tree
    /// is not mutated and one thread uses it at a time.
    /// </summary>
    public struct OverlapEnumerator
    {
        private readonly IntervalTree<T>? _tree;
        private readonly ulong _start;
        private readonly ulong _last;
        private readonly int _version;

        // The leaf being scanned; null before the first MoveNext and once the walk is over.
        private Leaf? _leaf;

        // The first slot of the 8-slot chunk of _leaf that _pending describes.
        private int _chunk;

        // The hits of that chunk not yet returned, one bit per slot.
        private ulong _pending;

        // The slot of the current element in _leaf.
        private int _index;

        // The chunk holds an entry that starts after the query: nothing after it overlaps.
        private bool _pastChunk;

        private bool _started;

        internal OverlapEnumerator(IntervalTree<T> tree, ulong start, ulong last)
        {
            _tree = tree;
            _start = start;
            _last = last;
            _version = tree._version;
        }

        /// <summary>The current element's value. Undefined before the first <see cref="MoveNext"/> and after it returned <see langword="false"/>.</summary>
        public readonly T Current => _leaf!.Values[_index];

        /// <summary>The current element's start. Undefined before the first <see cref="MoveNext"/> and after it returned <see langword="false"/>.</summary>
        public readonly ulong CurrentStart => _leaf!.Starts[_index];

        /// <summary>The current element's last value, inclusive. Undefined before the first <see cref="MoveNext"/> and after it returned <see langword="false"/>.</summary>
        public readonly ulong CurrentLast => _leaf!.Lasts[_index];

        /// <summary>
        /// Advances to the next overlapping element. The first call descends from the root
        /// (O(log n), or O(1) when the query lies outside every element); later calls cost O(1)
        /// amortized per result plus the climbs between leaves. Allocates nothing.
        /// </summary>
        /// <returns><see langword="false"/> when there is none (and on every later call).</returns>
        /// <exception cref="InvalidOperationException">The tree was mutated since the enumeration began.</exception>
        public bool MoveNext()
        {
            IntervalTree<T>? tree = _tree;
            if (tree is null)
            {
                return false; // default(OverlapEnumerator): an empty enumeration
            }

            if (tree._version != _version)
            {
                ThrowChanged();
            }

            ulong pending = _pending;
            if (pending != 0)
            {
                _index = _chunk + BitOperations.TrailingZeroCount(pending);
                _pending = pending & (pending - 1);
                return true;
            }

            return MoveToNextChunk(tree);
        }

        private bool MoveToNextChunk(IntervalTree<T> tree)
        {
            while (true)
            {
                Leaf? leaf = _leaf;
                if (leaf is null)
                {
                    if (_started)
                    {
                        return false;
                    }

                    _started = true;
                    leaf = FirstLeaf(tree);
                    if (leaf is null)
                    {
                        return false;
                    }

                    _chunk = 0;
                    _leaf = leaf;
                }
                else if (_pastChunk)
                {
                    _leaf = null;
                    return false;
                }
                else
                {
                    _chunk += 8;
                    if (_chunk >= leaf.Count)
                    {
                        Branch? parent = leaf.Parent;
                        leaf = parent is null ? null : Descend(parent, IndexInParent(parent, leaf) + 1, _start, _last);
                        if (leaf is null)
                        {
                            _leaf = null;
                            return false;
                        }

                        _chunk = 0;
                        _leaf = leaf;
                    }
                }

                // A hit's value is read right after the scan: fetch the chunk's values alongside its
                // keys (measured: about a fifth off a query at 10^5 that misses the cache).
                Prefetch(ref Unsafe.As<T, byte>(ref leaf.Values[_chunk]));
                ulong hits = ScanChunk(ref leaf.Starts[0], ref leaf.Lasts[0], _chunk, leaf.Count, _start, _last, out _pastChunk);
                if (hits != 0)
                {
                    _index = _chunk + BitOperations.TrailingZeroCount(hits);
                    _pending = hits & (hits - 1);
                    return true;
                }
            }
        }

        private readonly Leaf? FirstLeaf(IntervalTree<T> tree)
        {
            // O(1) rejects: the query lies before every start or after every last (or the tree is empty).
            if (_last < tree._minStart || _start > tree._maxLast || tree._count == 0)
            {
                return null;
            }

            Node root = tree._root!;
            return root.IsLeaf ? Unsafe.As<Leaf>(root) : Descend(Unsafe.As<Branch>(root), 0, _start, _last);
        }
    }

    /// <summary>Enumerates every element of a tree in ascending start (insertion order among equal starts).</summary>
    public struct Enumerator : IEnumerator<T>
    {
        private readonly IntervalTree<T>? _tree;
        private readonly int _version;
        private Leaf? _leaf;
        private int _index;
        private bool _started;

        internal Enumerator(IntervalTree<T> tree)
        {
            _tree = tree;
            _version = tree._version;
        }

        /// <summary>The current element's value. Undefined before the first <see cref="MoveNext"/> and after it returned <see langword="false"/>.</summary>
        public readonly T Current => _leaf!.Values[_index];

        /// <summary>The current element's start. Undefined before the first <see cref="MoveNext"/> and after it returned <see langword="false"/>.</summary>
        public readonly ulong CurrentStart => _leaf!.Starts[_index];

        /// <summary>The current element's last value, inclusive. Undefined before the first <see cref="MoveNext"/> and after it returned <see langword="false"/>.</summary>
        public readonly ulong CurrentLast => _leaf!.Lasts[_index];

        readonly object? IEnumerator.Current => Current;

        /// <summary>Advances to the next element. O(1) amortized; allocates nothing.</summary>
        /// <returns><see langword="false"/> at the end (and on every later call).</returns>
        /// <exception cref="InvalidOperationException">The tree was mutated since the enumeration began.</exception>
        public bool MoveNext()
        {
            IntervalTree<T>? tree = _tree;
            if (tree is null)
            {
                return false; // default(Enumerator): an empty enumeration
            }

            if (tree._version != _version)
            {
                ThrowChanged();
            }

            if (!_started)
            {
                _started = true;
                _leaf = tree._firstLeaf;
                _index = 0;
            }
            else if (_leaf is null)
            {
                return false;
            }
            else
            {
                _index++;
            }

            while (_leaf is not null && _index >= _leaf.Count)
            {
                _leaf = _leaf.Next;
                _index = 0;
            }

            return _leaf is not null;
        }

        /// <summary>Restarts the enumeration from the first element (a later <see cref="MoveNext"/> still throws if the tree changed).</summary>
        public void Reset()
        {
            _started = false;
            _leaf = null;
            _index = 0;
        }

        /// <summary>Does nothing.</summary>
        public readonly void Dispose()
        {
        }
    }
}
