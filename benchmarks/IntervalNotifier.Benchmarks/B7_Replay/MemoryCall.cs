namespace IntervalNotifier.Benchmarks.B7_Replay;

/// <summary>The system calls (and process events) of a trace that change a process's memory map.</summary>
public enum MemoryCallKind
{
    Mmap,
    Munmap,
    Mprotect,
    Madvise,
    Mremap,
    Brk,

    /// <summary><c>+++ exited with N +++</c> or <c>+++ killed by SIG +++</c>: the pid is gone.</summary>
    Exit,
}

/// <summary>
/// One completed, successful call from a trace (an unfinished/resumed pair already joined).
/// Addresses and lengths as the call passed and returned them, not yet page-aligned.
/// </summary>
/// <param name="Line">The 1-based line of the trace where the call completed.</param>
/// <param name="Pid">The pid (thread id) strace printed, 0 when the trace has no pid column.</param>
/// <param name="Kind">The call.</param>
/// <param name="Address">mmap's hint, munmap/mprotect/madvise's start, mremap's old address, brk's argument (0 for NULL).</param>
/// <param name="Length">The length argument (mremap: the old length).</param>
/// <param name="Result">mmap/mremap's new address, brk's new break; 0 for the others.</param>
/// <param name="NewLength">mremap's new length; 0 for the others.</param>
/// <param name="Fixed">mmap with <c>MAP_FIXED</c> or <c>MAP_FIXED_NOREPLACE</c>; mremap with <c>MREMAP_FIXED</c>.</param>
/// <param name="Discards">madvise with <c>MADV_DONTNEED</c>, <c>MADV_FREE</c> or <c>MADV_REMOVE</c> (the advice that drops pages).</param>
public readonly record struct MemoryCall(
    int Line,
    int Pid,
    MemoryCallKind Kind,
    ulong Address,
    ulong Length,
    ulong Result = 0,
    ulong NewLength = 0,
    bool Fixed = false,
    bool Discards = false);
