using IntervalNotifier.Benchmarks.B7_Replay;

namespace IntervalNotifier.Tests.Replay;

/// <summary>B7's strace reader: every line shape of the committed traces, the pairs -f splits, failed calls, bad input.</summary>
public sealed class StraceParserTests
{
    private static StraceParser Parse(params string[] lines)
    {
        var parser = new StraceParser();
        parser.ParseAll(new StringReader(string.Join('\n', lines)));
        return parser;
    }

    [Theory]
    [InlineData("25794 07:56:18.142459 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f1a8c117000", 25794)]
    [InlineData("6784  07:56:39.789902 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f1a8c117000", 6784)]
    [InlineData("mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f1a8c117000", 0)]
    [InlineData("07:56:18.142459 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f1a8c117000", 0)]
    [InlineData("[pid  4242] 1733212578.142459 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f1a8c117000", 4242)]
    public void Parse_MmapWithAnyPrefix_ReadsPidAndResult(string line, int pid)
    {
        StraceParser parser = Parse(line);

        MemoryCall call = Assert.Single(parser.Calls);
        Assert.Equal(new MemoryCall(1, pid, MemoryCallKind.Mmap, 0, 8192, 0x7f1a8c117000), call);
        Assert.Equal(0, parser.ProblemCount);
    }

    [Fact]
    public void Parse_EveryCallShape_ReadsArguments()
    {
        StraceParser parser = Parse(
            "19569 07:58:53.550728 mmap(0x7f9b81a09000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x26000) = 0x7f9b81a09000",
            "1 07:00:00.000001 mmap(0x10000, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, -1, 0) = 0x10000",
            "1 07:00:00.000002 munmap(0x7f5d82769000, 8192) = 0",
            "1 07:00:00.000003 mprotect(0x7f5d82769000, 4096, PROT_READ) = 0",
            "1 07:00:00.000004 madvise(0xb48190c0000, 520192, MADV_DONTNEED) = 0",
            "1 07:00:00.000005 madvise(0xb48190c0000, 520192, MADV_FREE) = 0",
            "1 07:00:00.000006 madvise(0xb48190c0000, 520192, MADV_REMOVE) = 0",
            "1 07:00:00.000007 madvise(0x7f1a89379000, 524288, MADV_DONTFORK) = 0",
            "12392 07:58:03.747067 mremap(0x7f5d82769000, 8192, 89247744, MREMAP_MAYMOVE) = 0x7f5d7cc00000",
            "1 07:00:00.000008 mremap(0x1000, 4096, 8192, MREMAP_MAYMOVE|MREMAP_FIXED, 0x9000) = 0x9000",
            "25794 07:56:18.140258 brk(NULL)         = 0xe697000",
            "1 07:00:00.000009 brk(0xe6b8000) = 0xe6b8000");

        Assert.Equal(0, parser.ProblemCount);
        Assert.Equal(
            [
                new MemoryCall(1, 19569, MemoryCallKind.Mmap, 0x7f9b81a09000, 1400832, 0x7f9b81a09000, Fixed: true),
                new MemoryCall(2, 1, MemoryCallKind.Mmap, 0x10000, 4096, 0x10000, Fixed: true),
                new MemoryCall(3, 1, MemoryCallKind.Munmap, 0x7f5d82769000, 8192),
                new MemoryCall(4, 1, MemoryCallKind.Mprotect, 0x7f5d82769000, 4096),
                new MemoryCall(5, 1, MemoryCallKind.Madvise, 0xb48190c0000, 520192, Discards: true),
                new MemoryCall(6, 1, MemoryCallKind.Madvise, 0xb48190c0000, 520192, Discards: true),
                new MemoryCall(7, 1, MemoryCallKind.Madvise, 0xb48190c0000, 520192, Discards: true),
                new MemoryCall(8, 1, MemoryCallKind.Madvise, 0x7f1a89379000, 524288),
                new MemoryCall(9, 12392, MemoryCallKind.Mremap, 0x7f5d82769000, 8192, 0x7f5d7cc00000, 89247744),
                new MemoryCall(10, 1, MemoryCallKind.Mremap, 0x1000, 4096, 0x9000, 8192, Fixed: true),
                new MemoryCall(11, 25794, MemoryCallKind.Brk, 0, 0, 0xe697000),
                new MemoryCall(12, 1, MemoryCallKind.Brk, 0xe6b8000, 0, 0xe6b8000),
            ],
            parser.Calls);
    }

    [Fact]
    public void Parse_UnfinishedAndResumedInterleaved_JoinsEachPidsPair()
    {
        StraceParser parser = Parse(
            "25794 07:56:18.390202 mmap(0x3be324d40000, 520192, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0 <unfinished ...>",
            "25937 07:56:18.393619 madvise(0xb48190c0000, 520192, MADV_DONTNEED <unfinished ...>",
            "25794 07:56:18.390564 <... mmap resumed>) = 0x3be324d40000",
            "25937 07:56:18.393700 <... madvise resumed>) = 0");

        Assert.Equal(0, parser.ProblemCount);
        Assert.Equal(
            [
                new MemoryCall(3, 25794, MemoryCallKind.Mmap, 0x3be324d40000, 520192, 0x3be324d40000),
                new MemoryCall(4, 25937, MemoryCallKind.Madvise, 0xb48190c0000, 520192, Discards: true),
            ],
            parser.Calls);
    }

    [Fact]
    public void Parse_ResumedWithRemainingArguments_JoinsTheText()
    {
        StraceParser parser = Parse(
            "7 07:00:00.000001 munmap(0x7f0000000000, <unfinished ...>",
            "7 07:00:00.000002 <... munmap resumed>8192) = 0");

        Assert.Equal(0, parser.ProblemCount);
        Assert.Equal(new MemoryCall(2, 7, MemoryCallKind.Munmap, 0x7f0000000000, 8192), Assert.Single(parser.Calls));
    }

    [Fact]
    public void Parse_FailedCalls_AreSkippedAndCounted()
    {
        StraceParser parser = Parse(
            "1 07:00:00.000001 mmap(NULL, 1099511627776, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = -1 ENOMEM (Cannot allocate memory)",
            "1 07:00:00.000002 munmap(0x1000, 0) = -1 EINVAL (Invalid argument)",
            "1 07:00:00.000003 brk(0x7fffffff0000) = 0x55d000",
            "2 07:00:00.000004 mprotect(0x1000, 4096, PROT_READ <unfinished ...>",
            "2 07:00:00.000005 <... mprotect resumed>) = ?",
            "1 07:00:00.000006 mremap(0x1000, 4096, 8192, 0) = -1 ENOMEM (Cannot allocate memory)");

        Assert.Empty(parser.Calls);
        Assert.Equal(5, parser.FailedCalls);
        Assert.Equal(0, parser.ProblemCount);
    }

    [Fact]
    public void Parse_ExitsSignalsAndOtherCalls_ExitsKeptRestIgnored()
    {
        StraceParser parser = Parse(
            "26002 07:56:39.755905 +++ exited with 0 +++",
            "26003 07:56:39.755906 +++ killed by SIGKILL +++",
            "26004 07:56:39.755907 +++ killed by SIGSEGV (core dumped) +++",
            "19569 07:59:01.2 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=851, si_uid=0, si_status=0} ---",
            "1 07:00:00.000001 mlock(0x1000, 4096) = 0");

        Assert.Equal([26002, 26003, 26004], parser.Calls.Select(c => c.Pid));
        Assert.All(parser.Calls, c => Assert.Equal(MemoryCallKind.Exit, c.Kind));
        Assert.Equal(2, parser.IgnoredLines);
        Assert.Equal(0, parser.ProblemCount);
    }

    [Fact]
    public void Parse_MalformedAndTruncatedLines_ReportedByLineNumberAndSkipped()
    {
        StraceParser parser = Parse(
            "1 07:00:00.000001 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x1000",
            "this is not strace output",
            "1 07:00:00.000002 munmap(0x1000, 40",
            "1 07:00:00.000003 munmap(zzz, 4096) = 0",
            "2 07:00:00.000004 <... mmap resumed>) = 0x2000",
            "3 07:00:00.000005 mprotect(0x1000, 4096, PROT_READ <unfinished ...>",
            "[pid x] mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, -1, 0) = 0x1000",
            "1 07:00:00.000006 mmap(NULL, 4096) = 0x1000",
            "1 07:00:00.000007 munmap(0x1000, 4096) = 0");

        Assert.Equal([1, 9], parser.Calls.Select(c => c.Line));
        Assert.Equal(7, parser.ProblemCount);
        Assert.Collection(
            parser.Problems,
            p => Assert.StartsWith("line 2:", p, StringComparison.Ordinal),
            p => Assert.StartsWith("line 3:", p, StringComparison.Ordinal),
            p => Assert.StartsWith("line 4:", p, StringComparison.Ordinal),
            p => Assert.StartsWith("line 5:", p, StringComparison.Ordinal),
            p => Assert.StartsWith("line 7:", p, StringComparison.Ordinal),
            p => Assert.StartsWith("line 8:", p, StringComparison.Ordinal),
            p => Assert.Contains("line 6: pid 3's unfinished call was never resumed", p, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_EmptyTrace_NoCallsNoProblems()
    {
        StraceParser parser = Parse("", "   ");

        Assert.Empty(parser.Calls);
        Assert.Equal(0, parser.ProblemCount);
    }

    [Fact]
    public void ReplayVerb_EmptyTrace_FailsWithAMessage()
    {
        string path = Path.GetTempFileName();
        try
        {
            Assert.Equal(2, ReplayCommand.Run([path]));
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static TheoryData<string> CommittedTraces() => [.. Traces.Files.Select(f => Path.GetFileName(f))];

    [Theory]
    [MemberData(nameof(CommittedTraces))]
    public void Parse_CommittedTrace_EveryLineRead(string name)
    {
        StraceParser parser = StraceParser.ParseFile(Traces.PathOf(name));

        Assert.Empty(parser.Problems);
        Assert.True(parser.Calls.Count >= 2000, $"{name}: {parser.Calls.Count} calls");
        Assert.Equal(parser.Lines, parser.Calls.Count + parser.IgnoredLines + parser.FailedCalls + CountUnfinished(name));
    }

    // The first half of each unfinished/resumed pair is a line of its own.
    private static int CountUnfinished(string name)
    {
        using var reader = new StreamReader(new System.IO.Compression.GZipStream(File.OpenRead(Traces.PathOf(name)), System.IO.Compression.CompressionMode.Decompress));
        int count = 0;
        while (reader.ReadLine() is { } line)
        {
            count += line.EndsWith("<unfinished ...>", StringComparison.Ordinal) ? 1 : 0;
        }

        return count;
    }
}
