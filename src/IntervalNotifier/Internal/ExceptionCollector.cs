using System.Runtime.ExceptionServices;

namespace IntervalNotifier.Internal;

/// <summary>
/// Collects the exceptions of one invalidation's callbacks, so that every callback still runs
/// and the invalidator gets them all at the end. Allocates only when a callback throws.
/// </summary>
internal struct ExceptionCollector
{
    private Exception? _first;
    private List<Exception>? _more;

    public readonly bool HasAny => _first is not null;

    public void Add(Exception exception)
    {
        if (_first is null)
        {
            _first = exception;
            return;
        }

        _more ??= [_first];
        _more.Add(exception);
    }

    /// <summary>Adds every exception of <paramref name="other"/>, in order.</summary>
    public void AddAll(in ExceptionCollector other)
    {
        if (other._more is not null)
        {
            foreach (Exception e in other._more)
            {
                Add(e);
            }
        }
        else if (other._first is not null)
        {
            Add(other._first);
        }
    }

    /// <summary>The one exception, an <see cref="AggregateException"/> of several, or <see langword="null"/>.</summary>
    public readonly Exception? ToException() =>
        _more is not null
            ? new AggregateException("Several invalidation callbacks failed; the invalidation was completed and ended.", _more)
            : _first;

    /// <summary>Throws the one exception (with its original stack), or an <see cref="AggregateException"/> of several.</summary>
    public readonly void ThrowIfAny()
    {
        if (_more is not null)
        {
            throw new AggregateException("Several invalidation callbacks failed; the invalidation was completed and ended.", _more);
        }

        if (_first is not null)
        {
            ExceptionDispatchInfo.Capture(_first).Throw();
        }
    }
}
