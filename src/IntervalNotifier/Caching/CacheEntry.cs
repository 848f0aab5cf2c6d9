using IntervalNotifier.Collections;

namespace IntervalNotifier.Caching;

/// <summary>One cached value, listed in the regions its key spans and in the cache's CLOCK ring.</summary>
/// <typeparam name="TValue">The cached value type.</typeparam>
/// <param name="key">Its range.</param>
/// <param name="value">Its value.</param>
internal sealed class CacheEntry<TValue>(CacheKey key, TValue value)
{
    /// <summary>Its range.</summary>
    public readonly CacheKey Key = key;

    /// <summary>Its value.</summary>
    public readonly TValue Value = value;

    /// <summary>Its handle in the first region its key spans; guarded by the cache's lock.</summary>
    public IntervalTreeHandle FirstHandle;

    /// <summary>Its handles in the other regions its key spans, in order (<see langword="null"/> when it spans one); guarded by the cache's lock.</summary>
    public IntervalTreeHandle[]? MoreHandles;

    /// <summary>The next entry of the CLOCK ring; guarded by the cache's lock.</summary>
    public CacheEntry<TValue>? Next;

    /// <summary>The previous entry of the CLOCK ring; guarded by the cache's lock.</summary>
    public CacheEntry<TValue>? Previous;

    // Set when made and by hits (lock-free), cleared by the CLOCK hand: an entry used since the
    // hand last passed — or new since then — gets a second chance. A plain field: a lost write
    // only costs that second chance.
    private bool _accessed = true;

    /// <summary>Marks the entry used; writes only when it is not marked yet (a hit then touches no shared line).</summary>
    public void Touch()
    {
        if (!_accessed)
        {
            _accessed = true;
        }
    }

    /// <summary>Whether the entry was used since the last call; clears the mark. Under the cache's lock.</summary>
    /// <returns>Whether it was marked.</returns>
    public bool TakeAccessed()
    {
        bool accessed = _accessed;
        _accessed = false;
        return accessed;
    }
}
