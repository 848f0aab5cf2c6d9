namespace IntervalNotifier.Tests.Support;

/// <summary>One callback call, as a test saw it.</summary>
internal sealed record Call(string Kind, IntervalSubscription Subscription, InvalidationRange Range, ulong Sequence, int ThreadId);

/// <summary>
/// A single-pass invalidator that records its calls, sets the sequence (unless told not to),
/// and runs an optional hook that decides what it returns.
/// </summary>
internal sealed class RecordingInvalidator : IIntervalInvalidator
{
    private readonly Lock _gate = new();
    private readonly List<Call> _calls = [];

    public RecordingInvalidator(string name = "", Func<IntervalSubscription, InvalidationRange, ulong, bool>? onInvalidate = null, List<string>? log = null)
    {
        Name = name;
        OnInvalidate = onInvalidate;
        Log = log;
    }

    public string Name { get; }

    public Func<IntervalSubscription, InvalidationRange, ulong, bool>? OnInvalidate { get; set; }

    public bool SetsSequence { get; set; } = true;

    public List<string>? Log { get; }

    public IReadOnlyList<Call> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _calls.Count;
            }
        }
    }

    public bool Invalidate(IntervalSubscription subscription, in InvalidationRange range, ulong currentSequence)
    {
        lock (_gate)
        {
            _calls.Add(new Call("invalidate", subscription, range, currentSequence, Environment.CurrentManagedThreadId));
            if (SetsSequence)
            {
                subscription.SetSequence(currentSequence);
            }
        }

        if (Log is not null)
        {
            lock (Log)
            {
                Log.Add(Name);
            }
        }

        return OnInvalidate?.Invoke(subscription, range, currentSequence) ?? true;
    }
}
