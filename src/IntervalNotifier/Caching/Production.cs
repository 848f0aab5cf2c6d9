using System.Runtime.ExceptionServices;

namespace IntervalNotifier.Caching;

/// <summary>How a <see cref="Production{TValue}"/> ended.</summary>
internal enum ProductionOutcome
{
    /// <summary>Still running (or retrying).</summary>
    Running,

    /// <summary>Produced and published (or, the cache being disposed, returned uncached): waiters take <see cref="Production{TValue}.Value"/>.</summary>
    Produced,

    /// <summary>The factory threw: waiters rethrow <see cref="Production{TValue}.Error"/>.</summary>
    Faulted,

    /// <summary>Its producer was cancelled: waiters start over (one of them produces).</summary>
    Abandoned,
}

/// <summary>
/// One key's production in progress: listed in the cache by key (later lookups of the key wait
/// for it) and in every region its key spans (an invalidation of the key marks it, and the
/// producer produces again).
/// </summary>
/// <typeparam name="TValue">The cached value type.</typeparam>
/// <param name="key">The key produced.</param>
internal sealed class Production<TValue>(CacheKey key)
{
    /// <summary>The key produced.</summary>
    public readonly CacheKey Key = key;

    // Made by the first lookup that joins (under the cache's lock, while the production is still
    // listed), so that a miss nobody joins allocates none; completed when the outcome is set.
    private TaskCompletionSource? _done;

    /// <summary>An invalidation overlapping the key began since the current attempt started; guarded by the cache's lock.</summary>
    public bool Invalidated;

    /// <summary>How it ended; written before the joiners are released.</summary>
    public ProductionOutcome Outcome;

    /// <summary>The value produced, when <see cref="Outcome"/> is <see cref="ProductionOutcome.Produced"/>.</summary>
    public TValue? Value;

    /// <summary>What the factory threw, when <see cref="Outcome"/> is <see cref="ProductionOutcome.Faulted"/>.</summary>
    public ExceptionDispatchInfo? Error;

    /// <summary>
    /// What a joining lookup waits for; completed when the outcome is set. Call under the cache's
    /// lock while the production is listed (then its completion, which follows the unlisting,
    /// sees it). Continuations run asynchronously, never under the cache's lock.
    /// </summary>
    /// <returns>The task.</returns>
    public Task Join() => (_done ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Sets the outcome and releases the waiters (call after the production is unlisted).</summary>
    /// <param name="outcome">The outcome.</param>
    /// <param name="value">The value, for <see cref="ProductionOutcome.Produced"/>.</param>
    /// <param name="error">The exception, for <see cref="ProductionOutcome.Faulted"/>.</param>
    public void Complete(ProductionOutcome outcome, TValue? value = default, Exception? error = null)
    {
        Outcome = outcome;
        Value = value;
        Error = error is null ? null : ExceptionDispatchInfo.Capture(error);
        Volatile.Read(ref _done)?.TrySetResult();
    }
}
