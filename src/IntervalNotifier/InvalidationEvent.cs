namespace IntervalNotifier;

/// <summary>
/// Why the primary mapping of a range changes (kernel: <c>enum mmu_notifier_event</c>).
/// A callback may use it to skip work that the event does not require.
/// </summary>
public enum InvalidationEvent
{
    /// <summary>The range is unmapped (kernel: <c>MMU_NOTIFY_UNMAP</c>: munmap, mremap).</summary>
    Unmap,

    /// <summary>Entries of the range are cleared (kernel: <c>MMU_NOTIFY_CLEAR</c>: madvise, page replacement).</summary>
    Clear,

    /// <summary>The protection of the whole area changes (kernel: <c>MMU_NOTIFY_PROTECTION_VMA</c>).</summary>
    ProtectionVma,

    /// <summary>The protection of some pages changes (kernel: <c>MMU_NOTIFY_PROTECTION_PAGE</c>).</summary>
    ProtectionPage,

    /// <summary>Soft-dirty tracking is reset (kernel: <c>MMU_NOTIFY_SOFT_DIRTY</c>).</summary>
    SoftDirty,

    /// <summary>The address space is being torn down (kernel: <c>MMU_NOTIFY_RELEASE</c>); see <see cref="AddressSpace.Dispose"/>.</summary>
    Release,

    /// <summary>Pages migrate (kernel: <c>MMU_NOTIFY_MIGRATE</c>); the range may carry an <see cref="InvalidationRange.Owner"/>.</summary>
    Migrate,

    /// <summary>A device is granted exclusive access (kernel: <c>MMU_NOTIFY_EXCLUSIVE</c>); the range may carry an <see cref="InvalidationRange.Owner"/>.</summary>
    Exclusive,
}
