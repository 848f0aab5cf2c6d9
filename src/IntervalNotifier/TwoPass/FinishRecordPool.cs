using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using IntervalNotifier.Collections;
using IntervalNotifier.Diagnostics;
using Microsoft.Extensions.ObjectPool;

namespace IntervalNotifier;

/// <summary>The pool side that the core sees, whatever the record type.</summary>
internal interface IFinishRecordPool
{
    /// <summary>Takes a record back after its finish call (or unfinished, after a callback bug). The caller holds the record; the return releases the hold.</summary>
    /// <param name="record">The record.</param>
    /// <param name="callingThread">The calling thread when the caller has it at hand (the core looks it up once per pass), else <see langword="null"/>.</param>
    void ReturnFromCore(FinishRecord record, Thread? callingThread);

    /// <summary>Moves every record of <paramref name="cache"/> (the calling thread's) back to the shared pool.</summary>
    void SpillAll(RecordCache cache);
}

/// <summary>
/// A small, bounded pool of finish records: <see cref="TryRent"/> fails when <see cref="Capacity"/>
/// records are out, or when the <see cref="AllocationFaults"/> given to the constructor say this
/// take fails. A failed rent models a <c>GFP_NOWAIT</c> allocation failure: the subscriber then
/// finishes its work in the start pass and returns no record (the single-pass fallback).
/// </summary>
/// <typeparam name="T">The record type; it needs a public parameterless constructor unless a factory is given.</typeparam>
/// <remarks>
/// <para>
/// All <see cref="Capacity"/> records are created up front and kept in a shared
/// <see cref="DefaultObjectPool{T}"/> (Microsoft.Extensions.ObjectPool). In front of it each
/// thread keeps a cache of free records: a start pass's rents and the finish pass's returns run
/// on the invalidating thread, so in steady state they are a push and a pop on that thread's
/// cache — no atomic operation, no shared cache line. A free record sits in the cache of the
/// thread that returned it (or in the shared pool, when that cache is full); a record returned on
/// a thread that did not rent it — an asynchronous finish's continuation, say — goes onto a
/// lock-free stack of the pool's (one compare-and-swap), which the next rent that finds its own
/// cache empty moves into that cache whole. The bound is the capacity, nothing less: a rent that finds its own cache
/// and the shared pool empty takes records from the caches of the other threads — live and idle,
/// blocked, or ended — and fails only when <see cref="Capacity"/> records are out. Such a rent
/// is slow (a lock and a process-wide memory barrier); it is the rare path.
/// </para>
/// <para>
/// A rented record that a start pass returns goes back to the pool right after its finish call,
/// also when that call throws; the subscriber returns it with <see cref="Return"/> only when it
/// does not hand it to the core. Returning resets the record (<see cref="FinishRecord.TryReset"/>,
/// the package's <see cref="IResettable"/> convention, then <see cref="FinishRecord.Subscription"/>
/// cleared); a record that cannot be reset is dropped, and a new one is created in its place
/// when it is needed.
/// </para>
/// <para>
/// Thread-safe. Renting and returning never wait for a record; they take a short lock only on a
/// thread's first rent, when the calling thread's cache is empty and records returned on other
/// threads wait on the pool's stack (to move them into the cache, once for the whole stack), when
/// the calling thread's cache and the shared pool are empty (to take records from other threads'
/// caches), and while another thread is taking records from the calling thread's cache. A pool that nothing references any more is collected, whichever
/// threads used it.
/// </para>
/// </remarks>
[DebuggerDisplay("Rented = {Rented} of {Capacity}, Failures = {Failures}")]
[SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The constructors differ by a required parameter (the factory), so no call is ambiguous.")]
public sealed partial class FinishRecordPool<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T> : IFinishRecordPool, IPoolMetricsSource
    where T : FinishRecord
{
    /// <summary>The most records one thread's cache holds; more are spilled to the shared pool.</summary>
    internal const int MaxCacheSize = 256;

    private readonly DefaultObjectPool<T> _shared;
    private readonly AllocationFaults? _faults;
    private readonly int _capacity;

    // The caches of the threads that rented from this pool (live ones, and ended ones that still
    // hold records); also the pool's lock: stealing, binding, dropping and spilling whole caches
    // happen under it.
    private readonly List<RecordCache> _caches = [];

    // Identifies the pool in the threads' cache slots without keeping it alive.
    private readonly long _id = RecordCaches.NewPoolId();

    // Releases the caches' records once this pool is collected (live threads' slots may hold the caches).
    [SuppressMessage("CodeQuality", "IDE0052:Remove unread private members", Justification = "It works by being finalized with the pool.")]
    private readonly CacheReleaser _releaser;

    // The cache of the first thread that used the pool — usually the one that invalidates —
    // found by comparing the calling thread with its owner instead of by the thread-static slot
    // lookup; the core passes the thread it looked up once per pass. Other threads find theirs
    // in RecordCaches.
    private RecordCache? _home;
    private readonly string _metricName;

    // The records in the shared pool (or places for new ones, after a failed reset): the rest
    // are rented or in a thread's cache. Decremented before a record is taken from the shared
    // pool, incremented after one is put back, so it never counts a record that is not there.
    private int _available;

    private long _failures;

    // The part of Rented that no listed cache counts: minus the returns on threads without a
    // cache, plus the counts of ended threads' caches dropped from the list.
    private int _rentedOutsideCaches;

    // Records returned on a thread other than the one that rented them (an asynchronous finish's
    // continuation, say): a lock-free stack linked by the records' finish-list link, so that such
    // a return is one compare-and-swap, not a trip through the shared pool's queue and its
    // counters. They stay held (by the hold their return had) until a rent moves the whole stack
    // into its cache — under the pool's lock, so that a rent deciding whether every record is out
    // finds each free record on the stack or in a cache, never between the two — so nothing can
    // link one meanwhile.
    private TreiberStackCore<FinishRecord, FinishRecord.Link> _returned;

    /// <summary>
    /// A bug planted by the systematic tests, to show that their scenario finds it: a slow rent
    /// takes the stack of returned records before it takes the lock, so a rent deciding meanwhile
    /// whether every record is out finds them in no place. <see langword="false"/> elsewhere.
    /// </summary>
    internal bool PlantedTakesReturnedOutsideLock { get; init; }

    /// <summary>Creates a pool of <paramref name="capacity"/> records made by their public parameterless constructor, all allocated now.</summary>
    /// <param name="capacity">The most records that may be rented at once; at least 1.</param>
    /// <param name="faults">Which takes fail on purpose; <see langword="null"/> or <see cref="AllocationFaults.None"/> for none.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1.</exception>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> has no public parameterless constructor: use the constructor that takes a factory.</exception>
    public FinishRecordPool(int capacity, AllocationFaults? faults = null)
        : this(capacity, DefaultFactory(), faults)
    {
    }

    /// <summary>Creates a pool of <paramref name="capacity"/> records made by <paramref name="factory"/>, all allocated now.</summary>
    /// <param name="capacity">The most records that may be rented at once; at least 1.</param>
    /// <param name="factory">Makes a record (for records that need constructor arguments); called <paramref name="capacity"/> times now, and again only to replace a record whose reset failed.</param>
    /// <param name="faults">Which takes fail on purpose; <see langword="null"/> or <see cref="AllocationFaults.None"/> for none.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="factory"/> returned <see langword="null"/>, or a record that is rented from another pool.</exception>
    public FinishRecordPool(int capacity, Func<T> factory, AllocationFaults? faults = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentNullException.ThrowIfNull(factory);
        _capacity = capacity;
        _faults = ReferenceEquals(faults, AllocationFaults.None) ? null : faults;
        _releaser = new CacheReleaser(_caches);
        _shared = new DefaultObjectPool<T>(new Policy(factory), capacity);
        _metricName = PoolMetrics.Register(this, typeof(T).Name);

        // Pre-warm: `capacity` records, so that after this none is created (unless a reset fails).
        var warm = new T[capacity];
        for (int i = 0; i < capacity; i++)
        {
            warm[i] = _shared.Get();
        }

        foreach (T record in warm)
        {
            _shared.Return(record);
        }

        _available = capacity;
    }

    /// <summary>The most records that may be rented at once.</summary>
    public int Capacity => _capacity;

    /// <summary>
    /// The records rented and not yet returned: a sum over the threads' own counts, so exact
    /// whenever no rent or return runs at the same time; while some do, a reading may be off by
    /// the records that move between threads meanwhile (the bound itself is never exceeded).
    /// </summary>
    public int Rented
    {
        get
        {
            int rented;
            lock (_caches)
            {
                rented = Volatile.Read(ref _rentedOutsideCaches); // under the lock: a dropped cache's count moves here under it
                foreach (RecordCache cache in _caches)
                {
                    rented += Volatile.Read(ref cache.Rented);
                }
            }

            return rented;
        }
    }

    /// <summary>How many rents failed, by fault injection or because <see cref="Capacity"/> records were out.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    string IPoolMetricsSource.Name => _metricName;

    /// <summary>The records in the shared pool (not rented, not in a thread's cache); for tests.</summary>
    internal int SharedAvailable => Volatile.Read(ref _available);

    /// <summary>The per-thread caches the pool lists; for tests.</summary>
    internal int CacheCount
    {
        get
        {
            lock (_caches)
            {
                return _caches.Count;
            }
        }
    }

    /// <summary>
    /// Rents a record, unless fault injection fails this take or <see cref="Capacity"/> records
    /// are out. Never waits for a record; allocates nothing (the first rent on a thread creates
    /// that thread's cache, under a short lock). In steady state a pop from the calling thread's
    /// cache: no atomic operation.
    /// </summary>
    /// <param name="record">The record, with <see cref="FinishRecord.Subscription"/> unset; <see langword="null"/> on failure.</param>
    /// <returns><see langword="false"/> when no record is available (all <see cref="Capacity"/> are out, or a fault was injected): finish the work synchronously and return no record.</returns>
    /// <exception cref="Exception">The record factory threw while creating a record in place of one whose reset failed; the pool is unchanged by the failed creation.</exception>
    public bool TryRent([NotNullWhen(true)] out T? record)
    {
        // Fault injection decides every take first, whatever the caches hold, so that a fault
        // pattern (EveryNth, Random) fails exactly the same takes.
        if (_faults is not null && _faults.ShouldFail())
        {
            return Fail(out record);
        }

        RecordCache cache = CacheOfCallingThread(null);
        if (cache.TryEnter())
        {
            int count = cache.Count;
            if (count != 0)
            {
                T popped = Unsafe.As<T>(cache.Items[--count].Record)!; // only this pool's records are in its caches
                cache.Count = count;
                cache.Exit();
                return Lend(cache, popped, out record);
            }

            cache.Exit();
        }

        return RentSlow(cache, out record);
    }

    /// <summary>
    /// Returns a record that was rented but will not be handed to the core (for instance, the
    /// device work turned out to be complete already). Records handed to the core in a start
    /// pass are returned by the core; do not return those. One compare-and-swap (the record's
    /// hold, which keeps a concurrent misuse from corrupting anything).
    /// </summary>
    /// <param name="record">A record rented from this pool.</param>
    /// <exception cref="ArgumentNullException"><paramref name="record"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The record is not rented from this pool (never, or returned already), or it was handed to the core by a start pass.</exception>
    /// <exception cref="Exception">The record's <see cref="FinishRecord.TryReset"/> threw; the record is back (replaced) all the same.</exception>
    public void Return(T record)
    {
        ArgumentNullException.ThrowIfNull(record);

        // Claim the record before anything else: a record that a finish list holds must not be
        // unlinked behind its back, and while this return holds it, no start pass can link it
        // and no other return can take it.
        if (record.ClaimHold(FinishRecord.ReturnHold) != 0)
        {
            throw new InvalidOperationException("The record was handed to the core by a start pass (or is being returned already); the core returns it to its pool after its finish call.");
        }

        if (!ReferenceEquals(record._pool, this))
        {
            record.ReleaseHold();
            ThrowNotRented();
        }

        ReturnHeld(record, callingThread: null);
    }

    void IFinishRecordPool.ReturnFromCore(FinishRecord record, Thread? callingThread)
    {
        // The caller holds the record (its finish list's hold, or the claim of a rejected
        // record), so nothing else can change it: plain checks suffice.
        Debug.Assert(record.Holder != 0, "The core returns a record it does not hold.");
        if (!ReferenceEquals(record._pool, this))
        {
            ThrowNotRented();
        }

        // Only this pool's TryRent sets _pool to this pool, so the record is a T: skip the
        // (shared-generic, hence slow) cast.
        ReturnHeld(Unsafe.As<T>(record), callingThread);
    }

    private static void ThrowNotRented() =>
        throw new InvalidOperationException("The record is not rented from this pool: it was never rented from it, or it was returned already.");

    private static Func<T> DefaultFactory()
    {
        if (typeof(T).IsAbstract || typeof(T).GetConstructor(Type.EmptyTypes) is null)
        {
            throw new InvalidOperationException($"{typeof(T)} has no public parameterless constructor: create the pool with a factory, new FinishRecordPool<{typeof(T).Name}>(capacity, () => new {typeof(T).Name}(...)).");
        }

        return Activator.CreateInstance<T>;
    }

    // Resets a held record and puts it where it can be rented again: the calling thread's
    // cache if that thread rented it; the stack of returned records if another thread did (so
    // that records do not gather in the caches of threads that never rent); the shared pool when
    // the cache is full.
    private void ReturnHeld(T record, Thread? callingThread)
    {
        RecordCache? cache = FindCache(callingThread);
        record._pool = null;
        if (cache is not null)
        {
            cache.Rented--;
        }
        else
        {
            Interlocked.Decrement(ref _rentedOutsideCaches);
        }

        bool reusable;
        Exception? resetFailure = null;
        try
        {
            reusable = record.TryReset();
        }
        catch (Exception exception)
        {
            reusable = false; // a reset that throws counts as failed: the record is replaced
            resetFailure = exception;
        }

        // Even when the user's reset fails, the pool gets its record back (or a place for a new
        // one): no record is ever lost. The hold ends just before the record becomes rentable,
        // so nothing can link it while it is on its way.
        record.Subscription = null;
        if (reusable && (cache is null || record._rentThread != cache.OwnerId))
        {
            _returned.Push(record); // still held: the rent that takes it from the stack releases it
        }
        else
        {
            record._next = null;
            record.ReleaseHold();
            if (!reusable)
            {
                Interlocked.Increment(ref _available); // the shared pool creates a new one when needed
            }
            else if (!TryPush(cache!, record))
            {
                ReturnToShared(record);
            }
        }

        if (resetFailure is not null)
        {
            ExceptionDispatchInfo.Throw(resetFailure);
        }
    }

    // The rent's bookkeeping, once it has its record.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Lend(RecordCache cache, T rented, [NotNullWhen(true)] out T? record)
    {
        cache.Rented++;
        rented._rentThread = cache.OwnerId;
        Volatile.Write(ref rented._pool, this);
        record = rented;
        return true;
    }

    private bool Fail(out T? record)
    {
        Interlocked.Increment(ref _failures);
        record = null;
        return false;
    }

    /// <summary>Creates records for the shared pool; the pool resets records itself before returning them.</summary>
    private sealed class Policy(Func<T> factory) : IPooledObjectPolicy<T>
    {
        public T Create() => factory() switch
        {
            null => throw new InvalidOperationException("The record factory returned null."),
            { IsRented: true } => throw new InvalidOperationException("The record factory returned a record that is rented from another pool."),
            { } record => record,
        };

        public bool Return(T obj) => true;
    }
}
