using System.Globalization;

namespace IntervalNotifier.Benchmarks.B7_Replay;

/// <summary>The arguments and result of one complete strace call line, read into a <see cref="MemoryCall"/>.</summary>
internal static class StraceArguments
{
    /// <summary>
    /// Splits <c>name(a, b, {c, d}, "e, f") = result …</c> into its top-level arguments and the
    /// result token; false when the closing parenthesis or the <c> = </c> is missing.
    /// </summary>
    public static bool TrySplit(string text, int open, out List<string> args, out string result)
    {
        args = [];
        result = "";
        int depth = 0;
        bool quoted = false;
        int from = open + 1;
        for (int i = open + 1; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }

                continue;
            }

            switch (c)
            {
                case '"':
                    quoted = true;
                    break;
                case '(' or '[' or '{':
                    depth++;
                    break;
                case ']' or '}':
                    depth--;
                    break;
                case ',' when depth == 0:
                    args.Add(text[from..i].Trim());
                    from = i + 1;
                    break;
                case ')' when depth == 0:
                    string last = text[from..i].Trim();
                    if (last.Length > 0 || args.Count > 0)
                    {
                        args.Add(last);
                    }

                    ReadOnlySpan<char> after = text.AsSpan(i + 1).TrimStart();
                    if (!after.StartsWith("= ", StringComparison.Ordinal))
                    {
                        return false;
                    }

                    after = after[2..].TrimStart();
                    int end = after.IndexOf(' ');
                    result = (end < 0 ? after : after[..end]).ToString();
                    return result.Length > 0;
                case ')':
                    depth--;
                    break;
                default:
                    break;
            }
        }

        return false;
    }

    /// <summary>Reads the arguments of a successful call; returns the reason when they cannot be read.</summary>
    public static string? ToCall(int line, int pid, MemoryCallKind kind, List<string> args, string result, out MemoryCall call)
    {
        call = default;
        int expected = kind switch
        {
            MemoryCallKind.Mmap => 6,
            MemoryCallKind.Munmap => 2,
            MemoryCallKind.Mprotect or MemoryCallKind.Madvise => 3,
            MemoryCallKind.Mremap => 4,
            _ => 1,
        };
        if (args.Count < expected || (kind == MemoryCallKind.Mremap && args.Count > 5) || (kind != MemoryCallKind.Mremap && args.Count != expected))
        {
            return $"{args.Count} arguments, expected {expected}";
        }

        if (!TryNumber(args[0], out ulong address))
        {
            return $"the address '{args[0]}' is not a number";
        }

        ulong length = 0;
        if (kind != MemoryCallKind.Brk && !TryNumber(args[1], out length))
        {
            return $"the length '{args[1]}' is not a number";
        }

        ulong value = 0;
        if (kind is MemoryCallKind.Mmap or MemoryCallKind.Mremap or MemoryCallKind.Brk && !TryNumber(result, out value))
        {
            return $"the result '{result}' is not an address";
        }

        call = kind switch
        {
            MemoryCallKind.Mmap => new MemoryCall(line, pid, kind, address, length, value, Fixed: HasFlag(args[3], "MAP_FIXED") || HasFlag(args[3], "MAP_FIXED_NOREPLACE")),
            MemoryCallKind.Madvise => new MemoryCall(line, pid, kind, address, length, Discards: HasFlag(args[2], "MADV_DONTNEED") || HasFlag(args[2], "MADV_FREE") || HasFlag(args[2], "MADV_REMOVE")),
            MemoryCallKind.Brk => new MemoryCall(line, pid, kind, address, 0, value),
            MemoryCallKind.Mremap => TryNumber(args[2], out ulong newLength)
                ? new MemoryCall(line, pid, kind, address, length, value, newLength, Fixed: HasFlag(args[3], "MREMAP_FIXED"))
                : default,
            _ => new MemoryCall(line, pid, kind, address, length),
        };
        return call.Line == 0 ? $"the new length '{args[2]}' is not a number" : null;
    }

    /// <summary>NULL, 0x… (hexadecimal) or decimal.</summary>
    public static bool TryNumber(string token, out ulong value)
    {
        if (token == "NULL")
        {
            value = 0;
            return true;
        }

        return token.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(token.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
            : ulong.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static bool HasFlag(string flags, string flag)
    {
        foreach (Range part in flags.AsSpan().Split('|'))
        {
            if (flags.AsSpan()[part].Trim().SequenceEqual(flag))
            {
                return true;
            }
        }

        return false;
    }
}
