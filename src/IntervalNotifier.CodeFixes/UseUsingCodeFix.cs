using System.Collections.Immutable;
using System.Composition;
using IntervalNotifier.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Simplification;
using static Microsoft.CodeAnalysis.CSharp.SyntaxFactory;

namespace IntervalNotifier.CodeFixes;

/// <summary>
/// INN0001's fix: a thrown-away scope becomes a <c>using</c> declaration (the bracket then lasts
/// to the end of the block); a local disposed by one <c>Dispose()</c> statement later in the same
/// block becomes a <c>using</c> statement around the statements in between (the bracket ends
/// where it ended before); a local never disposed becomes a <c>using</c> declaration.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseUsingCodeFix))]
[Shared]
public sealed class UseUsingCodeFix : CodeFixProvider
{
    private const string Title = "Dispose the scope with 'using'";

    public override ImmutableArray<string> FixableDiagnosticIds => [Rules.ScopeNotDisposedId];

    public override FixAllProvider? GetFixAllProvider() => null;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        Diagnostic diagnostic = context.Diagnostics[0];
        if (root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not InvocationExpressionSyntax begin)
        {
            return;
        }

        diagnostic.Properties.TryGetValue(ScopeNotDisposedAnalyzer.HowKey, out string? how);
        SyntaxNode? newRoot = how == ScopeNotDisposedAnalyzer.Discarded
            ? await DeclareDiscardedAsync(context.Document, root, begin, context.CancellationToken).ConfigureAwait(false)
            : FixLocal(root, begin);
        if (newRoot is not null)
        {
            context.RegisterCodeFix(
                CodeAction.Create(Title, _ => Task.FromResult(context.Document.WithSyntaxRoot(newRoot)), equivalenceKey: Title),
                diagnostic);
        }
    }

    // `space.BeginInvalidation(r);`, `_ = …;`, `await space.BeginInvalidationAsync(r);` → `using InvalidationScope scope = …;`
    private static async Task<SyntaxNode?> DeclareDiscardedAsync(Document document, SyntaxNode root, InvocationExpressionSyntax begin, CancellationToken cancellationToken)
    {
        ExpressionSyntax value = begin.Parent is AwaitExpressionSyntax awaited ? awaited : begin;
        SyntaxNode? statement = value.Parent is AssignmentExpressionSyntax { Left: IdentifierNameSyntax { Identifier.Text: "_" } } discard ? discard.Parent : value.Parent;
        if (statement is not ExpressionStatementSyntax expressionStatement
            || expressionStatement.Parent is not (BlockSyntax or GlobalStatementSyntax)
            || begin.Expression is not MemberAccessExpressionSyntax { Name.Identifier.Text: "BeginInvalidation" or "BeginInvalidationAsync" })
        {
            return null;
        }

        SemanticModel? model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        string name = UniqueName(model, expressionStatement.SpanStart, "scope");
        LocalDeclarationStatementSyntax declaration = LocalDeclarationStatement(
                VariableDeclaration(ScopeType(), SingletonSeparatedList(VariableDeclarator(Identifier(name)).WithInitializer(EqualsValueClause(value.WithoutTrivia())))))
            .WithUsingKeyword(Token(SyntaxKind.UsingKeyword))
            .WithTriviaFrom(expressionStatement)
            .WithAdditionalAnnotations(Formatter.Annotation);
        return root.ReplaceNode(expressionStatement, declaration);
    }

    private static SyntaxNode? FixLocal(SyntaxNode root, InvocationExpressionSyntax begin)
    {
        SyntaxNode? initializerValue = begin.Parent is AwaitExpressionSyntax awaited ? awaited : begin;
        if (initializerValue.Parent is not EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax declarator }
            || declarator.Parent is not VariableDeclarationSyntax { Variables.Count: 1, Parent: LocalDeclarationStatementSyntax declaration }
            || declaration.Parent is not BlockSyntax block)
        {
            return null;
        }

        string name = declarator.Identifier.Text;
        SyntaxNode scopeOfLocal = block;
        List<InvocationExpressionSyntax> disposes = [.. scopeOfLocal.DescendantNodes().OfType<InvocationExpressionSyntax>().Where(i => IsDisposeOf(i, name))];
        bool written = scopeOfLocal.DescendantNodes().OfType<AssignmentExpressionSyntax>().Any(a => a.Left is IdentifierNameSyntax { Identifier.Text: var n } && n == name);
        if (written)
        {
            return null;
        }

        if (disposes.Count == 0)
        {
            SyntaxToken usingKeyword = Token(declaration.GetLeadingTrivia(), SyntaxKind.UsingKeyword, TriviaList(Space));
            return root.ReplaceNode(declaration, declaration.WithoutLeadingTrivia().WithUsingKeyword(usingKeyword));
        }

        if (disposes.Count != 1 || disposes[0].Parent is not ExpressionStatementSyntax disposeStatement || disposeStatement.Parent != block)
        {
            return null;
        }

        int from = block.Statements.IndexOf(declaration);
        int to = block.Statements.IndexOf(disposeStatement);
        StatementSyntax[] inside = [.. block.Statements.Skip(from + 1).Take(to - from - 1)];
        HashSet<string> declaredInside = [.. inside.OfType<LocalDeclarationStatementSyntax>().SelectMany(d => d.Declaration.Variables).Select(v => v.Identifier.Text)];
        bool usedAfter = block.Statements.Skip(to + 1).SelectMany(s => s.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>()).Any(i => declaredInside.Contains(i.Identifier.Text));
        if (usedAfter)
        {
            return null; // the block would end their scope: not mechanical
        }

        UsingStatementSyntax @using = UsingStatement(declaration.Declaration.WithoutTrivia(), null, Block(inside))
            .WithLeadingTrivia(declaration.GetLeadingTrivia())
            .WithTrailingTrivia(disposeStatement.GetTrailingTrivia())
            .WithAdditionalAnnotations(Formatter.Annotation);
        List<StatementSyntax> statements = [.. block.Statements.Take(from), @using, .. block.Statements.Skip(to + 1)];
        return root.ReplaceNode(block, block.WithStatements(List(statements)));
    }

    private static bool IsDisposeOf(InvocationExpressionSyntax invocation, string local) =>
        invocation is { ArgumentList.Arguments.Count: 0, Expression: MemberAccessExpressionSyntax { Name.Identifier.Text: "Dispose", Expression: IdentifierNameSyntax { Identifier.Text: var target } } }
        && target == local;

    private static TypeSyntax ScopeType() =>
        ParseTypeName("global::IntervalNotifier.InvalidationScope").WithAdditionalAnnotations(Simplifier.Annotation);

    private static string UniqueName(SemanticModel? model, int position, string name)
    {
        HashSet<string> taken = [.. model?.LookupSymbols(position).Select(s => s.Name) ?? []];
        string candidate = name;
        for (int i = 2; taken.Contains(candidate); i++)
        {
            candidate = name + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return candidate;
    }
}
