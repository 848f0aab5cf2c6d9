using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace IntervalNotifier.Tests.Docs;

/// <summary>
/// The fenced C# blocks of README.md, the package's readme and docs/**/*.md, and how to compile
/// one. Shared by <c>DocSnippetTests</c> (every block compiles) and the analyzers' tests (no
/// block draws an analyzer warning, except a block marked as a misuse example).
/// </summary>
/// <remarks>
/// A block is a complete program (top-level statements and types) unless its first line is
/// <c>// fragment</c>: then it is compiled as the body of
/// <c>static async Task Fragment(AddressSpace space, IntervalSubscription subscription, CancellationToken cancellationToken)</c>,
/// with the usings of <see cref="Usings"/> and the stubs of <see cref="FragmentStubs"/>. A block
/// whose first line (after <c>// fragment</c>, if any) is <c>// misuse: INN0001</c> shows wrong
/// code on purpose (the analyzers' help pages): it must draw that rule, and no other.
/// </remarks>
internal static partial class DocSnippets
{
    // The implicit usings of a console project, and the library's namespaces.
    internal const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Diagnostics.Metrics;
        using System.IO;
        using System.Linq;
        using System.Net.Http;
        using System.Threading;
        using System.Threading.Tasks;
        using IntervalNotifier;
        using IntervalNotifier.Collections;
        using IntervalNotifier.Diagnostics;

        """;

    // What a fragment may use without defining it: the primary mapping and a device, as
    // placeholders (their bodies are irrelevant to the docs).
    internal const string FragmentStubs = """
        static class Primary
        {
            public static long Read(ulong address) => 0;
            public static void Change(ulong start, ulong end) { }
        }

        """;

    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        string[] platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return [.. platform.Select(p => MetadataReference.CreateFromFile(p)),
            MetadataReference.CreateFromFile(typeof(AddressSpace).Assembly.Location),
            MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.ObjectPool.IResettable).Assembly.Location)];
    });

    /// <summary>Every C# block, in file order (README.md, the package's readme, then docs/ in ordinal order).</summary>
    internal static IEnumerable<Snippet> All()
    {
        string root = RepositoryRoot();
        IEnumerable<string> files = [Path.Combine(root, "README.md"), Path.Combine(root, "src", "IntervalNotifier", "PackageReadme.md"), .. Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];
        foreach (string file in files)
        {
            string relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            string[] lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                Match open = Fence().Match(lines[i]);
                if (!open.Success)
                {
                    continue;
                }

                int start = i + 1;
                int end = start;
                while (end < lines.Length && lines[end].Trim() != "```")
                {
                    end++;
                }

                string language = open.Groups["lang"].Value.ToLowerInvariant();
                if (language is "csharp" or "cs" or "c#")
                {
                    string[] body = lines[start..end];
                    bool fragment = body.Length > 0 && body[0].TrimStart().StartsWith("// fragment", StringComparison.Ordinal);
                    string? marker = body.Skip(fragment ? 1 : 0).FirstOrDefault()?.Trim();
                    string? misuse = marker is not null && marker.StartsWith("// misuse: ", StringComparison.Ordinal) ? marker["// misuse: ".Length..].Trim() : null;
                    yield return new Snippet($"{relative}:{start + 1}", string.Join('\n', body), fragment, misuse);
                }

                i = end;
            }
        }
    }

    /// <summary>The block as a compilation against the library (a console program when it has top-level statements).</summary>
    internal static CSharpCompilation Compile(Snippet snippet, CancellationToken cancellationToken)
    {
        string source = snippet.IsFragment
            ? Usings + FragmentStubs + "static class Snippet\n{\n    static async Task Fragment(AddressSpace space, IntervalSubscription subscription, CancellationToken cancellationToken)\n    {\n" + snippet.Code + "\n        await Task.CompletedTask;\n    }\n}\n"
            : Usings + snippet.Code;

        SyntaxTree tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest), path: snippet.Id, cancellationToken: cancellationToken);
        bool hasTopLevelStatements = tree.GetRoot(cancellationToken).DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.GlobalStatementSyntax>().Any();
        return CSharpCompilation.Create(
            "Snippet",
            [tree],
            References.Value,
            new CSharpCompilationOptions(hasTopLevelStatements ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
    }

    internal static string RepositoryRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "IntervalNotifier.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("The repository root (IntervalNotifier.sln) was not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^\s*```(?<lang>[A-Za-z#+]*)\s*$")]
    private static partial Regex Fence();
}

/// <summary>One fenced C# block: where it starts (<c>file:line</c>), its code, and the rule it shows misused, if it is a misuse example.</summary>
internal sealed record Snippet(string Id, string Code, bool IsFragment, string? Misuse);
