using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace IntervalNotifier.Collections;

public sealed partial class IntervalTree<T>
{
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
        private readonly long _version;

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

        // The slot of _leaf in its parent, plus one: where the walk goes on once the leaf is done,
        // without searching the parent for it.
        private int _slotPlusOne;

        private bool _started;

        internal OverlapEnumerator(IntervalTree<T> tree, ulong start, ulong last)
        {
            _tree = tree;
            _start = start;
            _last = last;
            _version = tree._version;
        }

        /// <summary>The current element's value. Undefined before the first <see cref="MoveNext"/> and after it returned <see langword="false"/>.</summary>
        public readonly T Current => _leaf!.Values[_index & (LeafSlots - 1)];

        /// <summary>The current element's start. Undefined before the first <see cref="MoveNext"/> and after it returned <see langword="false"/>.</summary>
        public readonly ulong CurrentStart => _leaf!.Starts[_index & (LeafSlots - 1)];

        /// <summary>The current element's last value, inclusive. Undefined before the first <see cref="MoveNext"/> and after it returned <see langword="false"/>.</summary>
        public readonly ulong CurrentLast => _leaf!.Lasts[_index & (LeafSlots - 1)];

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
                        int next = MoveToNextLeaf(leaf);
                        if (next != ScanFromStart)
                        {
                            return next == HitsPending;
                        }

                        leaf = _leaf!;
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

        private Leaf? FirstLeaf(IntervalTree<T> tree)
        {
            // O(1) rejects: the query lies before every start or after every last (or the tree is empty).
            if (_last < tree._minStart || _start > tree._maxLast || tree._count == 0)
            {
                return null;
            }

            Node root = tree._root!;
            return root.IsLeaf ? Unsafe.As<Leaf>(root) : Descend(Unsafe.As<Branch>(root), 0);
        }

        // The first leaf that may hold an overlap, from child slot `from` of `branch` on: descends
        // to the first candidate child, climbing to the parent when a branch has none left; null
        // when the walk is over. Records the leaf's slot in its parent (_slotPlusOne).
        private Leaf? Descend(Branch branch, int from)
        {
            ulong start = _start;
            ulong last = _last;
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
                    _slotPlusOne = i + 1;
                    return Unsafe.As<Leaf>(child);
                }

                branch = Unsafe.As<Branch>(child);
                from = 0;
            }
        }

        // MoveToNextLeaf's answers.
        private const int WalkOver = -1;
        private const int ScanFromStart = 0;
        private const int HitsPending = 1;

        // `leaf` is done: moves on to the next leaf that may hold a hit, from the leaf's slot in its
        // parent (recorded by the descent that found it). A leaf whose every entry starts at or before the query's last (nested data: a
        // leaf before the query that holds a long interval) is decided by its lasts alone, the
        // whole leaf in one pass: its hits are left pending with _chunk at LeafSlots (so that
        // the next step leaves the leaf; the index is taken modulo LeafSlots) and the answer is
        // HitsPending. ScanFromStart: scan _leaf chunk by chunk from slot 0. WalkOver: no leaf
        // is left. Out of line, as is everything new on this path: the walk's common steps stay
        // small enough for the JIT to inline MoveNext into the address space's walk (seen in
        // its summary of compiled methods; when it stopped, a one-hit invalidation measured
        // about 8 % slower).
        [MethodImpl(MethodImplOptions.NoInlining)]
        private int MoveToNextLeaf(Leaf leaf)
        {
            while (true)
            {
                Branch? parent = leaf.Parent;
                Leaf? next = parent is null ? null : Descend(parent, _slotPlusOne);
                _leaf = next;
                if (next is null)
                {
                    return WalkOver;
                }

                // Every entry starts at or before the query's last when the leaf's next sibling
                // (at slot _slotPlusOne of its parent) does.
                leaf = next;
                parent = leaf.Parent!;
                if (_slotPlusOne >= parent.Count || parent.MinStarts[_slotPlusOne] > _last)
                {
                    _chunk = 0;
                    return ScanFromStart;
                }

                ulong all = ReachMask(ref leaf.Lasts[0], leaf.Count, _start);
                if (all != 0)
                {
                    _chunk = LeafSlots;
                    _index = LeafSlots + BitOperations.TrailingZeroCount(all);
                    _pending = all & (all - 1);
                    return HitsPending;
                }
            }
        }
    }

    /// <summary>Enumerates every element of a tree in ascending start (insertion order among equal starts).</summary>
    public struct Enumerator : IEnumerator<T>
    {
        private readonly IntervalTree<T>? _tree;
        private readonly long _version;
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
