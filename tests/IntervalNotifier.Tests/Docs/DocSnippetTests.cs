using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace IntervalNotifier.Tests.Docs;

/// <summary>
/// Docs that cannot rot: every fenced C# block of README.md, the package's readme and docs/**/*.md compiles against
/// the library (how a block is compiled: <see cref="DocSnippets"/>). The analyzers' tests check
/// the same blocks for analyzer warnings.
/// </summary>
public sealed class DocSnippetTests(ITestOutputHelper output)
{
    public static TheoryData<string> Blocks()
    {
        var data = new TheoryData<string>();
        foreach (Snippet snippet in DocSnippets.All())
        {
            data.Add(snippet.Id);
        }

        return data;
    }

    [Fact]
    public void TheDocsHaveCSharpBlocks_SoThatThisTestCannotPassByFindingNone()
    {
        Snippet[] snippets = [.. DocSnippets.All()];
        Assert.Contains(snippets, s => s.Id.StartsWith("README.md", StringComparison.Ordinal) && !s.IsFragment);
        Assert.True(snippets.Length >= 8, $"only {snippets.Length} C# blocks found");
    }

    [Fact]
    public void PackageReadme_HasNoRelativeLinks_TheyWouldBreakOnTheGallery()
    {
        string readme = File.ReadAllText(Path.Combine(DocSnippets.RepositoryRoot(), "src", "IntervalNotifier", "PackageReadme.md"));
        Assert.DoesNotMatch(@"\]\((?!https?://)", readme);
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public void CSharpBlock_Compiles(string id)
    {
        Snippet snippet = DocSnippets.All().Single(s => s.Id == id);
        CSharpCompilation compilation = DocSnippets.Compile(snippet, TestContext.Current.CancellationToken);
        Diagnostic[] errors = [.. compilation.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity == DiagnosticSeverity.Error)];
        foreach (Diagnostic e in errors)
        {
            output.WriteLine(e.ToString());
        }

        Assert.True(errors.Length == 0, $"{snippet.Id} does not compile:\n{string.Join('\n', errors.Select(e => e.ToString()))}\n--- block ---\n{snippet.Code}");
    }
}
