namespace IntervalNotifier.Benchmarks.B7_Replay;

/// <summary>The library: one <see cref="AddressSpace"/>, the mapping itself as its subscription's invalidator.</summary>
public sealed class LibraryReplaySpace : IReplaySpace
{
    private readonly AddressSpace _space = new();
    private InvalidationScope _scope;

    public void Subscribe(MirroredMapping mapping) => mapping.Handle = _space.SubscribeInclusive(mapping.Start, mapping.Last, mapping);

    public void Unsubscribe(MirroredMapping mapping) => ((IntervalSubscription)mapping.Handle!).Unsubscribe();

    public void BeginInvalidation(ulong start, ulong last, InvalidationEvent kind) => _scope = _space.BeginInvalidation(InvalidationRange.Inclusive(start, last, kind));

    public void EndInvalidation()
    {
        _scope.Dispose();
        _scope = default;
    }

    public ulong ReadBegin(MirroredMapping mapping) => ((IntervalSubscription)mapping.Handle!).ReadBegin();

    public bool ReadRetry(MirroredMapping mapping, ulong sequence) => ((IntervalSubscription)mapping.Handle!).ReadRetry(sequence);

    public void Dispose() => _space.Dispose();
}
