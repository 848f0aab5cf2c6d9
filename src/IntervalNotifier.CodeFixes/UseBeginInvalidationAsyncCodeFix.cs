using System.Collections.Immutable;
using System.Composition;
using IntervalNotifier.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;
using static Microsoft.CodeAnalysis.CSharp.SyntaxFactory;

namespace IntervalNotifier.CodeFixes;

/// <summary>INN0002's fix: <c>space.BeginInvalidation(range)</c> becomes <c>await space.BeginInvalidationAsync(range)</c>, whose scope belongs to no thread.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseBeginInvalidationAsyncCodeFix))]
[Shared]
public sealed class UseBeginInvalidationAsyncCodeFix : CodeFixProvider
{
    private const string Title = "Use 'await BeginInvalidationAsync'";

    public override ImmutableArray<string> FixableDiagnosticIds => [Rules.SyncScopeAcrossAwaitId];

    public override FixAllProvider? GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        Diagnostic diagnostic = context.Diagnostics[0];
        if (root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not InvocationExpressionSyntax
            {
                Expression: MemberAccessExpressionSyntax { Name.Identifier.Text: "BeginInvalidation" } access,
            } begin)
        {
            return;
        }

        // BeginInvalidation takes the range by `in`; BeginInvalidationAsync by value.
        ArgumentListSyntax arguments = begin.ArgumentList.WithArguments(SeparatedList(
            begin.ArgumentList.Arguments.Select(a => a.RefKindKeyword.IsKind(SyntaxKind.InKeyword) ? a.WithRefKindKeyword(default).WithLeadingTrivia(a.GetLeadingTrivia()) : a),
            begin.ArgumentList.Arguments.GetSeparators()));
        AwaitExpressionSyntax replacement = AwaitExpression(
                begin.WithExpression(access.WithName(IdentifierName("BeginInvalidationAsync"))).WithArgumentList(arguments).WithoutLeadingTrivia())
            .WithTriviaFrom(begin)
            .WithAdditionalAnnotations(Formatter.Annotation);
        SyntaxNode newRoot = root.ReplaceNode(begin, replacement);
        context.RegisterCodeFix(
            CodeAction.Create(Title, _ => Task.FromResult(context.Document.WithSyntaxRoot(newRoot)), equivalenceKey: Title),
            diagnostic);
    }
}
