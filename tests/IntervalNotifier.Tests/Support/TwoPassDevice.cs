namespace IntervalNotifier.Tests.Support;

/// <summary>A pooled finish record of a test device: what the finish pass needs, plus an owner mark.</summary>
internal sealed class DeviceRecord : FinishRecord
{
    // Mark-and-check: the invalidation that holds this record, 0 when none.
    public long Owner;

    public TwoPassDevice? Device { get; set; }

    public InvalidationRange Range { get; set; }

    public int StartThread { get; set; }

    public int Resets { get; private set; }

    public override bool TryReset()
    {
        Device = null;
        Range = default;
        StartThread = 0;
        Resets++;
        return true;
    }
}

/// <summary>
/// A two-pass test device: the start pass sets the sequence and takes a pooled record (or falls
/// back to finishing synchronously); the finish pass checks and releases the record. Every
/// step is logged, and violations (a record held twice, a finish on another thread than its
/// start, a second finish) are collected rather than thrown.
/// </summary>
internal sealed class TwoPassDevice : ITwoPassIntervalInvalidator
{
    private static long s_nextOwner;
    private readonly List<string>? _log;
    private int _starts;
    private int _finishes;
    private int _fallbacks;
    private int _singlePassCalls;

    public TwoPassDevice(string name, FinishRecordPool<DeviceRecord> pool, List<string>? log = null)
    {
        Name = name;
        Pool = pool;
        _log = log;
    }

    public string Name { get; }

    public FinishRecordPool<DeviceRecord> Pool { get; }

    public List<string> Violations { get; } = [];

    public Func<DeviceRecord, bool>? OnFinish { get; set; }

    public Func<InvalidationRange, bool>? OnStart { get; set; }

    public int Starts => Volatile.Read(ref _starts);

    public int Finishes => Volatile.Read(ref _finishes);

    public int Fallbacks => Volatile.Read(ref _fallbacks);

    public int SinglePassCalls => Volatile.Read(ref _singlePassCalls);

    public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
    {
        Interlocked.Increment(ref _singlePassCalls);
        bool ok = InvalidateStart(subscription, range, currentSequence, out FinishRecord? record);
        if (record is not null)
        {
            InvalidateFinish(record);
            Pool.Return((DeviceRecord)record);
        }

        return ok;
    }

    public bool InvalidateStart(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence, out FinishRecord? finish)
    {
        Interlocked.Increment(ref _starts);
        subscription.SetSequence(currentSequence);
        Log("start");
        if (OnStart is not null && !OnStart(range))
        {
            finish = null;
            return false;
        }

        if (!Pool.TryRent(out DeviceRecord? record))
        {
            Interlocked.Increment(ref _fallbacks);
            Log("fallback");
            finish = null;
            return true;
        }

        long owner = Interlocked.Increment(ref s_nextOwner);
        if (Interlocked.CompareExchange(ref record.Owner, owner, 0) != 0)
        {
            Violate("a rented record was still held by another owner");
        }

        record.Device = this;
        record.Range = range;
        record.StartThread = Environment.CurrentManagedThreadId;
        finish = record;
        return true;
    }

    public void InvalidateFinish(FinishRecord finish)
    {
        var record = (DeviceRecord)finish;
        Interlocked.Increment(ref _finishes);
        Log("finish");
        if (record.Device != this || (record.Subscription is { } s && s.Invalidator != this))
        {
            Violate("finish got a record of another device");
        }

        if (record.StartThread != Environment.CurrentManagedThreadId)
        {
            Violate("finish ran on another thread than its start: records crossed invalidations");
        }

        long owner = Volatile.Read(ref record.Owner);
        if (owner == 0 || Interlocked.CompareExchange(ref record.Owner, 0, owner) != owner)
        {
            Violate("a record was finished twice, or by two owners");
        }

        if (OnFinish is not null && !OnFinish(record))
        {
            throw new InvalidOperationException($"{Name}: finish failed on purpose");
        }
    }

    private void Log(string what)
    {
        if (_log is not null)
        {
            lock (_log)
            {
                _log.Add($"{what}:{Name}");
            }
        }
    }

    private void Violate(string what)
    {
        lock (Violations)
        {
            Violations.Add(what);
        }
    }
}
