using System.Collections.Immutable;
using IntervalNotifier.Tests.Docs;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace IntervalNotifier.Analyzers.Tests.Docs;

/// <summary>
/// No false positive in the docs: every C# block of README.md, the package's readme and docs/
/// draws no analyzer warning — except a block marked <c>// misuse: INNxxxx</c> (the rule
/// pages' wrong examples), which must draw that rule and no other.
/// </summary>
public sealed class DocSnippetAnalyzerTests
{
    private static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers = [.. typeof(ScopeNotDisposedAnalyzer).Assembly.GetTypes()
        .Where(t => typeof(DiagnosticAnalyzer).IsAssignableFrom(t) && !t.IsAbstract)
        .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)];

    public static TheoryData<string> Blocks() => [.. DocSnippets.All().Select(s => s.Id)];

    [Fact]
    public void Analyzers_AreAllFound_OnePerRule()
    {
        string[] ids = [.. Analyzers.SelectMany(a => a.SupportedDiagnostics).Select(d => d.Id).Order(StringComparer.Ordinal)];
        Assert.Equal(["INN0001", "INN0002", "INN0003", "INN0004", "INN0005", "INN0006", "INN0007", "INN0008"], ids);
    }

    [Fact]
    public void EveryRule_HasAHelpPage_ThatShowsItsMisuse()
    {
        string root = DocSnippets.RepositoryRoot();
        Snippet[] snippets = [.. DocSnippets.All()];
        foreach (DiagnosticDescriptor rule in Analyzers.SelectMany(a => a.SupportedDiagnostics))
        {
            Assert.True(File.Exists(Path.Combine(root, rule.HelpLinkUri)), $"{rule.Id}: no page at {rule.HelpLinkUri}");
            Assert.Contains(snippets, s => s.Misuse == rule.Id && s.Id.StartsWith(rule.HelpLinkUri + ":", StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public async Task CSharpBlock_DrawsOnlyTheRuleItShowsMisused(string id)
    {
        Snippet snippet = DocSnippets.All().Single(s => s.Id == id);
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        ImmutableArray<Diagnostic> diagnostics = await DocSnippets.Compile(snippet, cancellationToken)
            .WithAnalyzers(Analyzers)
            .GetAnalyzerDiagnosticsAsync(cancellationToken);
        string[] found = [.. diagnostics.Where(d => d.Id.StartsWith("INN", StringComparison.Ordinal)).Select(d => d.ToString())];
        string[] ids = [.. diagnostics.Select(d => d.Id).Where(i => i.StartsWith("INN", StringComparison.Ordinal)).Distinct()];

        if (snippet.Misuse is null)
        {
            Assert.True(found.Length == 0, $"{snippet.Id}: analyzer warnings on a block that is not marked as misuse:\n{string.Join('\n', found)}");
        }
        else
        {
            Assert.True(ids.SequenceEqual([snippet.Misuse]), $"{snippet.Id} is marked '// misuse: {snippet.Misuse}' but draws [{string.Join(", ", ids)}]:\n{string.Join('\n', found)}");
        }
    }
}
