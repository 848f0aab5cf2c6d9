using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace IntervalNotifier.Tests.Docs;

/// <summary>
/// Docs that cannot rot: every fenced C# block of README.md, the package's readme and docs/**/*.md compiles against
/// the library. A block is a complete program (top-level statements and types) unless its first
/// line is <c>// fragment</c>: then it is compiled as the body of
/// <c>static async Task Fragment(AddressSpace space, IntervalSubscription subscription, CancellationToken cancellationToken)</c>,
/// with the usings of <see cref="Usings"/> and the stubs of <see cref="FragmentStubs"/> (the
/// names a fragment may use without defining: see docs/README of the samples).
/// </summary>
public sealed partial class DocSnippetTests(ITestOutputHelper output)
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

    public static TheoryData<string> Blocks()
    {
        var data = new TheoryData<string>();
        foreach (Snippet snippet in Snippets())
        {
            data.Add(snippet.Id);
        }

        return data;
    }

    [Fact]
    public void TheDocsHaveCSharpBlocks_SoThatThisTestCannotPassByFindingNone()
    {
        Snippet[] snippets = [.. Snippets()];
        Assert.Contains(snippets, s => s.Id.StartsWith("README.md", StringComparison.Ordinal) && !s.IsFragment);
        Assert.True(snippets.Length >= 8, $"only {snippets.Length} C# blocks found");
    }

    [Fact]
    public void PackageReadme_HasNoRelativeLinks_TheyWouldBreakOnTheGallery()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "IntervalNotifier", "PackageReadme.md"));
        Assert.DoesNotMatch(@"\]\((?!https?://)", readme);
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public void CSharpBlock_Compiles(string id)
    {
        Snippet snippet = Snippets().Single(s => s.Id == id);
        string source = snippet.IsFragment
            ? Usings + FragmentStubs + "static class Snippet\n{\n    static async Task Fragment(AddressSpace space, IntervalSubscription subscription, CancellationToken cancellationToken)\n    {\n" + snippet.Code + "\n        await Task.CompletedTask;\n    }\n}\n"
            : Usings + snippet.Code;

        SyntaxTree tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest), path: snippet.Id, cancellationToken: TestContext.Current.CancellationToken);
        bool hasTopLevelStatements = tree.GetRoot(TestContext.Current.CancellationToken).DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.GlobalStatementSyntax>().Any();
        var compilation = CSharpCompilation.Create(
            "Snippet",
            [tree],
            References.Value,
            new CSharpCompilationOptions(hasTopLevelStatements ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        Diagnostic[] errors = [.. compilation.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity == DiagnosticSeverity.Error)];
        foreach (Diagnostic e in errors)
        {
            output.WriteLine(e.ToString());
        }

        Assert.True(errors.Length == 0, $"{snippet.Id} does not compile:\n{string.Join('\n', errors.Select(e => e.ToString()))}\n--- block ---\n{snippet.Code}");
    }

    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        string[] platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return [.. platform.Select(p => MetadataReference.CreateFromFile(p)),
            MetadataReference.CreateFromFile(typeof(AddressSpace).Assembly.Location),
            MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.ObjectPool.IResettable).Assembly.Location)];
    });

    internal sealed record Snippet(string Id, string Code, bool IsFragment);

    internal static IEnumerable<Snippet> Snippets()
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
                    yield return new Snippet($"{relative}:{start + 1}", string.Join('\n', body), fragment);
                }

                i = end;
            }
        }
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
