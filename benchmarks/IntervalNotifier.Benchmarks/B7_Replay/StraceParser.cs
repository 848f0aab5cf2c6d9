using System.Buffers;
using System.Globalization;
using System.IO.Compression;

namespace IntervalNotifier.Benchmarks.B7_Replay;

/// <summary>
/// Reads the ordinary output of <c>strace -f -tt -e trace=mmap,munmap,mprotect,madvise,mremap,brk</c>:
/// an optional pid column (<c>-f</c>, also as <c>[pid N]</c>), an optional timestamp (<c>-t</c>,
/// <c>-tt</c>, <c>-ttt</c>), then a call, an unfinished call (<c>… &lt;unfinished ...&gt;</c>), the
/// rest of one (<c>&lt;... NAME resumed&gt;…</c>, joined with its start by pid), a signal
/// (<c>--- SIG… ---</c>, ignored) or a process's end (<c>+++ exited with N +++</c>).
/// Failed calls (<c>= -1 E…</c>, <c>= ?</c>, a <c>brk</c> that did not move the break) are
/// skipped; other calls are ignored. A line that cannot be read is reported with its number
/// and skipped: the parser never throws on input.
/// </summary>
public sealed class StraceParser
{
    private const int MaxReportedProblems = 20;

    private static readonly SearchValues<char> Digits = SearchValues.Create("0123456789");
    private static readonly SearchValues<char> TimeCharacters = SearchValues.Create("0123456789:.");
    private static readonly SearchValues<char> NameCharacters = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789_");

    private readonly Dictionary<int, (int Line, string Start)> _unfinished = [];
    private readonly List<MemoryCall> _calls = [];
    private readonly List<string> _problems = [];
    private int _problemCount;

    /// <summary>The calls read so far, in the order they completed.</summary>
    public IReadOnlyList<MemoryCall> Calls => _calls;

    /// <summary>The first problems found (line number and reason); <see cref="ProblemCount"/> counts them all.</summary>
    public IReadOnlyList<string> Problems => _problems;

    /// <summary>The number of malformed, truncated or orphaned lines skipped.</summary>
    public int ProblemCount => _problemCount;

    /// <summary>The number of lines read.</summary>
    public int Lines { get; private set; }

    /// <summary>Calls that failed (<c>= -1 E…</c>, <c>= ?</c>, a refused brk) and were skipped.</summary>
    public int FailedCalls { get; private set; }

    /// <summary>Calls of other system calls than the six, and signals, ignored.</summary>
    public int IgnoredLines { get; private set; }

    /// <summary>Reads a trace file; a name ending in <c>.gz</c> is decompressed.</summary>
    public static StraceParser ParseFile(string path)
    {
        using Stream file = File.OpenRead(path);
        using Stream input = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(input);
        var parser = new StraceParser();
        parser.ParseAll(reader);
        return parser;
    }

    /// <summary>Reads every line of <paramref name="reader"/>, then reports the calls left unfinished.</summary>
    public void ParseAll(TextReader reader)
    {
        while (reader.ReadLine() is { } line)
        {
            ParseLine(line);
        }

        Finish();
    }

    /// <summary>Reads one line (the next line number).</summary>
    public void ParseLine(string line)
    {
        int number = ++Lines;
        ReadOnlySpan<char> rest = line.AsSpan().Trim();
        if (rest.IsEmpty)
        {
            return;
        }

        int pid = 0;
        if (rest.StartsWith("[pid", StringComparison.Ordinal))
        {
            int close = rest.IndexOf(']');
            if (close < 0 || !int.TryParse(rest[4..close].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out pid))
            {
                Problem(number, "a [pid N] prefix that cannot be read");
                return;
            }

            rest = rest[(close + 1)..].TrimStart();
        }
        else if (TakeToken(ref rest, out ReadOnlySpan<char> first, static t => t.Length > 0 && !t.ContainsAnyExcept(Digits)))
        {
            pid = int.Parse(first, NumberStyles.None, CultureInfo.InvariantCulture);
        }

        TakeToken(ref rest, out _, static t => t.Length > 0 && t[0] is >= '0' and <= '9' && !t.ContainsAnyExcept(TimeCharacters));

        if (rest.StartsWith("+++", StringComparison.Ordinal))
        {
            if (rest.Contains("exited with", StringComparison.Ordinal) || rest.Contains("killed by", StringComparison.Ordinal))
            {
                _calls.Add(new MemoryCall(number, pid, MemoryCallKind.Exit, 0, 0));
            }
            else
            {
                IgnoredLines++;
            }

            return;
        }

        if (rest.StartsWith("---", StringComparison.Ordinal))
        {
            IgnoredLines++;
            return;
        }

        string text;
        if (rest.StartsWith("<...", StringComparison.Ordinal))
        {
            int resumed = rest.IndexOf(" resumed>", StringComparison.Ordinal);
            if (resumed < 0)
            {
                Problem(number, "a '<...' line without 'resumed>'");
                return;
            }

            ReadOnlySpan<char> name = rest[4..resumed].Trim();
            if (!_unfinished.Remove(pid, out (int Line, string Start) start))
            {
                Problem(number, $"'{name}' resumed, but pid {pid} has no unfinished call");
                return;
            }

            if (!start.Start.AsSpan().StartsWith(name, StringComparison.Ordinal) || start.Start.Length <= name.Length || start.Start[name.Length] != '(')
            {
                Problem(number, $"'{name}' resumed, but pid {pid}'s unfinished call (line {start.Line}) is another");
                return;
            }

            text = string.Concat(start.Start, rest[(resumed + " resumed>".Length)..]);
        }
        else
        {
            int unfinished = rest.IndexOf("<unfinished ...>", StringComparison.Ordinal);
            if (unfinished >= 0)
            {
                if (_unfinished.TryGetValue(pid, out (int Line, string Start) previous))
                {
                    Problem(previous.Line, $"pid {pid}'s unfinished call was never resumed");
                }

                _unfinished[pid] = (number, rest[..unfinished].TrimEnd().ToString());
                return;
            }

            text = rest.ToString();
        }

        ParseCall(number, pid, text);
    }

    /// <summary>Reports the calls that were still unfinished at the end of the trace (a truncated trace).</summary>
    public void Finish()
    {
        foreach ((int pid, (int line, _)) in _unfinished.OrderBy(u => u.Value.Line))
        {
            Problem(line, $"pid {pid}'s unfinished call was never resumed (truncated trace?)");
        }

        _unfinished.Clear();
    }

    private void ParseCall(int number, int pid, string text)
    {
        int open = text.IndexOf('(', StringComparison.Ordinal);
        if (open <= 0)
        {
            Problem(number, "not a system call");
            return;
        }

        string name = text[..open];
        MemoryCallKind? kind = name switch
        {
            "mmap" or "mmap2" => MemoryCallKind.Mmap,
            "munmap" => MemoryCallKind.Munmap,
            "mprotect" => MemoryCallKind.Mprotect,
            "madvise" => MemoryCallKind.Madvise,
            "mremap" => MemoryCallKind.Mremap,
            "brk" => MemoryCallKind.Brk,
            _ => null,
        };
        if (kind is null)
        {
            if (name.AsSpan().ContainsAnyExcept(NameCharacters))
            {
                Problem(number, "not a system call");
            }
            else if (!StraceArguments.TrySplit(text, open, out _, out _))
            {
                Problem(number, $"{name}: no closing ') = result' (truncated line?)");
            }
            else
            {
                IgnoredLines++;
            }

            return;
        }

        if (!StraceArguments.TrySplit(text, open, out List<string> args, out string result))
        {
            Problem(number, $"{name}: no closing ') = result' (truncated line?)");
            return;
        }

        if (result.StartsWith('?') || result.StartsWith("-1", StringComparison.Ordinal))
        {
            FailedCalls++;
            return;
        }

        string? error = StraceArguments.ToCall(number, pid, kind.Value, args, result, out MemoryCall call);
        if (error is not null)
        {
            Problem(number, $"{name}: {error}");
        }
        else if (call.Kind == MemoryCallKind.Brk && call.Address != 0 && call.Result != call.Address)
        {
            FailedCalls++; // the kernel refused the new break and returned the old one
        }
        else
        {
            _calls.Add(call);
        }
    }

    private void Problem(int line, string message)
    {
        if (++_problemCount <= MaxReportedProblems)
        {
            _problems.Add($"line {line}: {message}");
        }
    }

    private static bool TakeToken(ref ReadOnlySpan<char> rest, out ReadOnlySpan<char> token, Func<ReadOnlySpan<char>, bool> accept)
    {
        int space = rest.IndexOfAny(' ', '\t');
        token = space < 0 ? default : rest[..space];
        if (space < 0 || !accept(token))
        {
            return false;
        }

        rest = rest[space..].TrimStart();
        return true;
    }
}
