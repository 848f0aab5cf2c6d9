# B7 trace workload for python3: allocation-heavy work — dicts, lists and strings built and
# dropped every round (the object allocator's arenas grow and are returned), a sort, large
# temporary byte strings, and anonymous mmap buffers (as multiprocessing and numpy-style
# code use them), written, partly discarded with madvise(MADV_DONTNEED), resized, closed.
import mmap
import sys

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
total = 0
for r in range(rounds):
    table = {f"key-{i}-{r}": [i, str(i) * 3, (i, r)] for i in range(40000 + 4000 * (r % 10))}
    words = sorted(table, key=lambda k: k[::-1])
    total += len(words)
    for size in range(64, 64 + 60):
        chunk = bytes(size * 4096)
        total += len(chunk.replace(b"\0", b"\1", 3))
        buf = mmap.mmap(-1, size * 4096)
        buf[0:8] = b"abcdefgh"
        buf[-8:] = b"hgfedcba"
        if size % 3 == 0:
            buf.madvise(mmap.MADV_DONTNEED, 0, 16 * 4096)
        if size % 4 == 0:
            buf.resize(size * 8192)
        total += buf[0] + len(buf)
        buf.close()
    del table, words
print(f"rounds={rounds} total={total}")
