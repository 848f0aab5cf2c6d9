using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace IntervalNotifier.Analyzers;

/// <summary>
/// INN0002: a scope of the synchronous <c>BeginInvalidation</c> or <c>TryBeginInvalidation</c>
/// that is still open at an <c>await</c> of the same method. The scope's lifetime is read from
/// how it is disposed: the body of its <c>using</c> statement, the rest of the block after its
/// <c>using</c> declaration, or the <c>try</c> whose <c>finally</c> disposes it.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SyncScopeAcrossAwaitAnalyzer() : ProtocolAnalyzer(OperationKind.Invocation)
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rules.SyncScopeAcrossAwait];

    private protected override void Analyze(OperationAnalysisContext context, KnownSymbols known)
    {
        var invocation = (IInvocationOperation)context.Operation;
        IMethodSymbol method = invocation.TargetMethod;
        if (!SymbolEqualityComparer.Default.Equals(method.ContainingType, known.AddressSpace)
            || method.Name is not ("BeginInvalidation" or "TryBeginInvalidation"))
        {
            return;
        }

        IOperation? firstAwait = Lifetime(invocation)
            .SelectMany(region => region.DescendantsInSameFunction().Prepend(region))
            .FirstOrDefault(o => o.IsAwait());
        if (firstAwait is not null)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                Rules.SyncScopeAcrossAwait,
                invocation.Syntax.GetLocation(),
                [firstAwait.Syntax.GetLocation()],
                method.Name));
        }
    }

    // The operations that run while the scope is open (as far as its disposal shows).
    private static IEnumerable<IOperation> Lifetime(IInvocationOperation begin)
    {
        if (begin.TargetMethod.Name == "TryBeginInvalidation")
        {
            return begin.Arguments.FirstOrDefault(a => a.Parameter?.RefKind == RefKind.Out)?.Value switch
            {
                IDeclarationExpressionOperation { Expression: ILocalReferenceOperation local } => LocalLifetime(begin, local.Local),
                ILocalReferenceOperation local => LocalLifetime(begin, local.Local),
                _ => [],
            };
        }

        IOperation? parent = begin.ParentSkippingConversions();
        if (parent is IUsingOperation @using)
        {
            return [@using.Body];
        }

        if (parent is IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator })
        {
            IOperation? owner = declarator.Parent?.Parent?.Parent; // declarator → declaration → group → owner
            return owner switch
            {
                IUsingOperation statement => [statement.Body],
                IUsingDeclarationOperation declaration => RestOfBlock(declaration),
                _ => LocalLifetime(begin, declarator.Symbol),
            };
        }

        return begin.StoredInLocal() is { } stored ? LocalLifetime(begin, stored) : [];
    }

    private static IEnumerable<IOperation> RestOfBlock(IOperation statement) =>
        statement.Parent is IBlockOperation block
            ? block.Operations.SkipWhile(o => !ReferenceEquals(o, statement)).Skip(1)
            : [];

    private static IEnumerable<IOperation> LocalLifetime(IOperation begin, ILocalSymbol local)
    {
        foreach (ILocalReferenceOperation reference in begin.Root().ReferencesTo(local))
        {
            switch (reference.ParentSkippingConversions())
            {
                case IUsingOperation @using:
                    yield return @using.Body;
                    break;
                case IInvocationOperation { TargetMethod.Name: "Dispose" } dispose when dispose.IsInFinally():
                    for (IOperation? o = dispose.Parent; o is not null; o = o.Parent)
                    {
                        if (o is ITryOperation @try && @try.Finally is not null)
                        {
                            yield return @try.Body;
                            break;
                        }
                    }

                    break;
            }
        }
    }
}
