namespace IntervalNotifier.Benchmarks.B7_Replay;

/// <summary>
/// One process's address space as the replay drives it: the library's <see cref="AddressSpace"/>
/// or a baseline. The writer (the trace) subscribes, unsubscribes and brackets invalidations;
/// readers run the §3 fault path with <see cref="ReadBegin"/> and <see cref="ReadRetry"/>.
/// </summary>
public interface IReplaySpace : IDisposable
{
    /// <summary>Subscribes <paramref name="mapping"/>'s range; sets its <see cref="MirroredMapping.Handle"/>.</summary>
    void Subscribe(MirroredMapping mapping);

    /// <summary>Unsubscribes; no callback of it runs after this returns.</summary>
    void Unsubscribe(MirroredMapping mapping);

    /// <summary>Begins an invalidation of <c>[start, last]</c>: every overlapping mapping's callback has run when it returns.</summary>
    void BeginInvalidation(ulong start, ulong last, InvalidationEvent kind);

    /// <summary>Ends the invalidation begun last.</summary>
    void EndInvalidation();

    /// <summary>read_begin: waits while the mapping is being invalidated.</summary>
    ulong ReadBegin(MirroredMapping mapping);

    /// <summary>read_retry, under the device lock.</summary>
    bool ReadRetry(MirroredMapping mapping, ulong sequence);
}
