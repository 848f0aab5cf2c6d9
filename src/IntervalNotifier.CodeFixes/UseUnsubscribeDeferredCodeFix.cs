using System.Collections.Immutable;
using System.Composition;
using IntervalNotifier.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using static Microsoft.CodeAnalysis.CSharp.SyntaxFactory;

namespace IntervalNotifier.CodeFixes;

/// <summary>
/// INN0005's and INN0006's fix: an unsubscribe inside a callback becomes
/// <c>UnsubscribeDeferred()</c> (<c>sub.Unsubscribe()</c>, <c>sub.Dispose()</c>, <c>await
/// sub.UnsubscribeAsync(ct)</c> as a statement): it never waits, and no callback of the
/// subscription starts after the running invalidations end.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseUnsubscribeDeferredCodeFix))]
[Shared]
public sealed class UseUnsubscribeDeferredCodeFix : CodeFixProvider
{
    private const string Title = "Use 'UnsubscribeDeferred()'";

    public override ImmutableArray<string> FixableDiagnosticIds => [Rules.WaitInCallbackId, Rules.WaitInAsyncFinishId];

    public override FixAllProvider? GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        Diagnostic diagnostic = context.Diagnostics[0];
        if (!diagnostic.Properties.ContainsKey(SelfWait.FixKey)
            || root?.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not InvocationExpressionSyntax call)
        {
            return;
        }

        ExpressionSyntax? renamed = call.Expression switch
        {
            MemberAccessExpressionSyntax access => access.WithName(IdentifierName("UnsubscribeDeferred")),
            MemberBindingExpressionSyntax binding => binding.WithName(IdentifierName("UnsubscribeDeferred")),
            _ => null,
        };
        if (renamed is null)
        {
            return;
        }

        InvocationExpressionSyntax deferred = call.WithExpression(renamed).WithArgumentList(ArgumentList());

        // The awaitable forms: the whole `await …` (through ConfigureAwait) or `_ = …` becomes the call.
        SyntaxNode replaced = call;
        if (replaced.Parent is MemberAccessExpressionSyntax { Name.Identifier.Text: "ConfigureAwait", Parent: InvocationExpressionSyntax configure })
        {
            replaced = configure;
        }

        if (replaced.Parent is AwaitExpressionSyntax awaited)
        {
            replaced = awaited;
        }

        if (replaced.Parent is AssignmentExpressionSyntax { Left: IdentifierNameSyntax { Identifier.Text: "_" } } discard)
        {
            replaced = discard;
        }

        SyntaxNode newRoot = root.ReplaceNode(replaced, deferred.WithTriviaFrom(replaced));
        context.RegisterCodeFix(
            CodeAction.Create(Title, _ => Task.FromResult(context.Document.WithSyntaxRoot(newRoot)), equivalenceKey: Title),
            diagnostic);
    }
}
