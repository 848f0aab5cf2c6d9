using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace IntervalNotifier.Analyzers;

/// <summary>
/// INN0003: the sequence of <c>ReadBegin</c> / <c>ReadBeginAsync</c> thrown away, or kept in a
/// local that no <c>ReadRetry</c> / <c>CheckRetry</c> of the method (lambdas included) is given.
/// A sequence that leaves the method — returned, stored outside a local, passed to a method
/// outside the System namespaces — is not reported: the check may be there.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SequenceNotCheckedAnalyzer() : ProtocolAnalyzer(OperationKind.Invocation)
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rules.SequenceNotChecked];

    private protected override void Analyze(OperationAnalysisContext context, KnownSymbols known)
    {
        var invocation = (IInvocationOperation)context.Operation;
        IMethodSymbol method = invocation.TargetMethod;
        if (!SymbolEqualityComparer.Default.Equals(method.ContainingType, known.Subscription)
            || method.Name is not ("ReadBegin" or "ReadBeginAsync"))
        {
            return;
        }

        // The sequence is the call's value, or its await's; a ReadBeginAsync task that is not
        // awaited here goes somewhere else, and so does its sequence.
        IOperation sequence = invocation.AwaitedOrSelf();
        bool hasSequence = method.Name == "ReadBegin" || sequence is IAwaitOperation;
        bool lost = invocation.IsDiscarded()
            || (hasSequence && sequence.IsDiscarded())
            || (hasSequence && sequence.StoredInLocal() is { } local && !IsCheckedOrLeaves(sequence.Root(), local, known));
        if (lost)
        {
            context.ReportDiagnostic(Diagnostic.Create(Rules.SequenceNotChecked, invocation.Syntax.GetLocation(), method.Name));
        }
    }

    private static bool IsCheckedOrLeaves(IOperation root, ILocalSymbol local, KnownSymbols known)
    {
        foreach (ILocalReferenceOperation reference in root.ReferencesTo(local))
        {
            if (reference.IsWrite())
            {
                continue;
            }

            switch (reference.ParentSkippingConversions())
            {
                case IArgumentOperation { Parent: IInvocationOperation call }:
                    if (SymbolEqualityComparer.Default.Equals(call.TargetMethod.ContainingType, known.Subscription)
                        && call.TargetMethod.Name is "ReadRetry" or "CheckRetry")
                    {
                        return true;
                    }

                    if (!IsSystem(call.TargetMethod.ContainingNamespace))
                    {
                        return true; // a helper of the user's may check it
                    }

                    break;
                case IArgumentOperation:
                case IReturnOperation:
                case IAssignmentOperation:
                case IVariableInitializerOperation:
                case IArrayInitializerOperation:
                case ITupleOperation:
                case IAnonymousObjectCreationOperation:
                    return true; // it leaves this local: the check may be elsewhere
            }
        }

        return false;
    }

    private static bool IsSystem(INamespaceSymbol? ns)
    {
        while (ns is { ContainingNamespace.IsGlobalNamespace: false })
        {
            ns = ns.ContainingNamespace;
        }

        return ns?.Name == "System";
    }
}
