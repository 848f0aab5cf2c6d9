using System.Diagnostics.Metrics;

namespace IntervalNotifier.Diagnostics;

/// <summary>
/// The names of the library's <see cref="System.Diagnostics.Metrics"/> instruments, on the meter
/// <see cref="MeterName"/> — the shared static one, or the one an address space gets from the
/// <see cref="IMeterFactory"/> of <see cref="AddressSpaceOptions.MeterFactory"/>. Listen
/// with a <see cref="MeterListener"/>, OpenTelemetry, or
/// <c>dotnet-counters monitor --counters IntervalNotifier</c>. Instruments cost a branch when
/// nobody listens.
/// </summary>
/// <remarks>
/// Every measurement of an address space carries the tag <see cref="AddressSpaceTag"/> (the
/// <see cref="AddressSpaceOptions.Name"/>, or <see langword="null"/>); invalidations also carry
/// <see cref="EventTag"/>, waits <see cref="WaitTag"/>, deferred changes <see cref="ChangeTag"/>.
/// The pools' instruments (<see cref="PoolRecordsOut"/>, <see cref="PoolFailures"/>) carry only
/// <see cref="PoolTag"/> (the record type and a number in creation order) and are on the shared
/// static meter: a pool belongs to no address space.
/// </remarks>
public static class NotifierMetrics
{
    /// <summary>The name of the <see cref="Meter"/>: <c>IntervalNotifier</c>.</summary>
    public const string MeterName = "IntervalNotifier";

    /// <summary>Counter: invalidations begun (tagged with <see cref="EventTag"/>).</summary>
    public const string Invalidations = "intervalnotifier.invalidations";

    /// <summary>Counter: single-pass and start-pass callbacks called.</summary>
    public const string Callbacks = "intervalnotifier.callbacks";

    /// <summary>Counter: finish records returned by start passes and finished.</summary>
    public const string FinishRecords = "intervalnotifier.finish_records";

    /// <summary>Counter: start passes that returned no record (the subscriber finished synchronously).</summary>
    public const string Fallbacks = "intervalnotifier.fallbacks";

    /// <summary>Counter: non-blockable invalidations that failed because a callback would have had to wait.</summary>
    public const string WouldBlockFailures = "intervalnotifier.would_block_failures";

    /// <summary>Counter: callbacks that returned <see langword="false"/> for a blockable range (a callback bug; the walk went on).</summary>
    public const string BlockableRefusals = "intervalnotifier.blockable_refusals";

    /// <summary>Counter: callback bugs around finish records (a record returned with <see langword="false"/>, or a record already linked).</summary>
    public const string RecordMisuses = "intervalnotifier.record_misuses";

    /// <summary>Counter: exceptions thrown by callbacks.</summary>
    public const string CallbackExceptions = "intervalnotifier.callback_exceptions";

    /// <summary>Counter: tree changes deferred because invalidations were running (tagged with <see cref="ChangeTag"/>).</summary>
    public const string DeferredChanges = "intervalnotifier.deferred_changes";

    /// <summary>Counter: waits for invalidations to end (tagged with <see cref="WaitTag"/>).</summary>
    public const string Waits = "intervalnotifier.waits";

    /// <summary>Histogram, seconds: an invalidation from its begin to its end.</summary>
    public const string InvalidationDuration = "intervalnotifier.invalidation.duration";

    /// <summary>Histogram, seconds: a wait for running invalidations to end (tagged with <see cref="WaitTag"/>).</summary>
    public const string WaitDuration = "intervalnotifier.wait.duration";

    /// <summary>Observable gauge: an address space's open brackets.</summary>
    public const string ActiveInvalidations = "intervalnotifier.active_invalidations";

    /// <summary>Observable gauge: an address space's live subscriptions.</summary>
    public const string Subscriptions = "intervalnotifier.subscriptions";

    /// <summary>Histogram, seconds: the finish pass of asynchronous begins, from the first finish called to the last completed.</summary>
    public const string FinishPassDuration = "intervalnotifier.finish_pass.duration";

    /// <summary>Observable gauge: finish records rented from a pool and not yet returned (tagged with <see cref="PoolTag"/>).</summary>
    public const string PoolRecordsOut = "intervalnotifier.pool.records_out";

    /// <summary>Observable counter: rents from a finish-record pool that failed (tagged with <see cref="PoolTag"/>).</summary>
    public const string PoolFailures = "intervalnotifier.pool.failures";

    /// <summary>Tag: a finish-record pool, as its record type and a number (<c>DeviceRecord#1</c>).</summary>
    public const string PoolTag = "intervalnotifier.pool";

    /// <summary>Tag: the address space's name.</summary>
    public const string AddressSpaceTag = "intervalnotifier.address_space";

    /// <summary>Tag: the <see cref="InvalidationEvent"/> of an invalidation.</summary>
    public const string EventTag = "intervalnotifier.event";

    /// <summary>Tag: what waited (<c>read_begin</c> or <c>unsubscribe</c>).</summary>
    public const string WaitTag = "intervalnotifier.wait";

    /// <summary>Tag: the kind of deferred change (<c>insert</c> or <c>remove</c>).</summary>
    public const string ChangeTag = "intervalnotifier.change";

    /// <summary>Counter: coherent-cache lookups that found their entry (tag <see cref="CacheTag"/>).</summary>
    public const string CacheHits = "intervalnotifier.cache.hits";

    /// <summary>Counter: coherent-cache lookups that did not find their entry.</summary>
    public const string CacheMisses = "intervalnotifier.cache.misses";

    /// <summary>Counter: coherent-cache productions produced again because an overlapping invalidation began while they ran.</summary>
    public const string CacheRetries = "intervalnotifier.cache.retries";

    /// <summary>Counter: coherent-cache entries evicted (tags <see cref="CacheTag"/> and <see cref="ReasonTag"/>).</summary>
    public const string CacheEvictions = "intervalnotifier.cache.evictions";

    /// <summary>Counter: coherent-cache lookups that waited for another lookup's production of the same key.</summary>
    public const string CacheProductionWaits = "intervalnotifier.cache.production_waits";

    /// <summary>Counter: coherent-cache productions that waited for running invalidations of their range to end (readers starving under continuous writes show here and in <see cref="CacheRetries"/>).</summary>
    public const string CacheInvalidationWaits = "intervalnotifier.cache.invalidation_waits";

    /// <summary>Tag: the coherent cache's name (<c>CoherentCacheOptions.Name</c>, or its value type and a number).</summary>
    public const string CacheTag = "intervalnotifier.cache";

    /// <summary>Tag: why an entry was evicted (an <c>EvictionReason</c> name).</summary>
    public const string ReasonTag = "intervalnotifier.reason";
}
