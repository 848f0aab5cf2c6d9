using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace IntervalNotifier.Analyzers;

/// <summary>
/// INN0001: a scope of <c>BeginInvalidation</c>, <c>TryBeginInvalidation</c> or
/// <c>BeginInvalidationAsync</c> that is thrown away, or kept in a local that is neither
/// <c>using</c>-declared nor disposed in a <c>using</c> or a <c>finally</c>. No flow analysis: a
/// scope that leaves the method (returned, passed on, stored in a field or captured) is the
/// callee's business and is not reported.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ScopeNotDisposedAnalyzer() : ProtocolAnalyzer(OperationKind.Invocation)
{
    /// <summary>The diagnostic's property that says how the scope was lost (for the code fix).</summary>
    internal const string HowKey = "How";

    /// <summary><see cref="HowKey"/>: the call's result is an expression statement or <c>_ = …</c>.</summary>
    internal const string Discarded = "Discarded";

    /// <summary><see cref="HowKey"/>: kept in a local that is not disposed on every path.</summary>
    internal const string Local = "Local";

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rules.ScopeNotDisposed];

    private protected override void Analyze(OperationAnalysisContext context, KnownSymbols known)
    {
        var invocation = (IInvocationOperation)context.Operation;
        IMethodSymbol method = invocation.TargetMethod;
        if (!SymbolEqualityComparer.Default.Equals(method.ContainingType, known.AddressSpace))
        {
            return;
        }

        (string How, string Problem)? lost = method.Name switch
        {
            "BeginInvalidation" => Check(invocation),
            "BeginInvalidationAsync" => invocation.IsDiscarded() ? (Discarded, "is thrown away with its task") : invocation.AwaitedOrSelf() is IAwaitOperation awaited ? Check(awaited) : null,
            "TryBeginInvalidation" => CheckOut(invocation),
            _ => null,
        };

        if (lost is var (how, problem))
        {
            context.ReportDiagnostic(Diagnostic.Create(
                Rules.ScopeNotDisposed,
                invocation.Syntax.GetLocation(),
                ImmutableDictionary<string, string?>.Empty.Add(HowKey, how),
                method.Name,
                problem));
        }
    }

    // The scope is the value of the call (or of its await).
    private static (string How, string Problem)? Check(IOperation value)
    {
        if (value.IsDiscarded())
        {
            return (Discarded, "is thrown away");
        }

        IOperation? parent = value.ParentSkippingConversions();
        if (parent is IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator })
        {
            return IsUsingDeclared(declarator) ? null : CheckLocal(value, declarator.Symbol);
        }

        return value.StoredInLocal() is { } local ? CheckLocal(value, local) : null; // using (…), .Dispose(), or it leaves the method
    }

    // TryBeginInvalidation's scope comes out through its out argument.
    private static (string How, string Problem)? CheckOut(IInvocationOperation invocation)
    {
        IArgumentOperation? scope = invocation.Arguments.FirstOrDefault(a => a.Parameter?.RefKind == RefKind.Out);
        return scope?.Value switch
        {
            IDiscardOperation => (Discarded, "is thrown away (out _)"),
            IDeclarationExpressionOperation { Expression: ILocalReferenceOperation local } => CheckLocal(invocation, local.Local),
            ILocalReferenceOperation local => CheckLocal(invocation, local.Local),
            _ => null,
        };
    }

    // declarator → declaration → declaration group → using statement or using declaration
    private static bool IsUsingDeclared(IVariableDeclaratorOperation declarator) =>
        declarator.Parent?.Parent?.Parent is IUsingDeclarationOperation or IUsingOperation;

    // Fine when some use disposes it on every path (using, or Dispose in a finally) or hands it
    // on; reported when its only uses are Dispose calls outside finally blocks, or none.
    private static (string How, string Problem)? CheckLocal(IOperation begin, ILocalSymbol local)
    {
        IOperation? declaringFunction = begin.EnclosingFunction();
        bool disposedOutsideFinally = false;
        foreach (ILocalReferenceOperation reference in begin.Root().ReferencesTo(local))
        {
            if (reference.IsWrite())
            {
                continue;
            }

            if (!ReferenceEquals(reference.EnclosingFunction(), declaringFunction))
            {
                return null; // captured: disposed who knows where
            }

            IOperation? parent = reference.ParentSkippingConversions();
            if (parent is IUsingOperation)
            {
                return null;
            }

            if (parent is IInvocationOperation { TargetMethod.Name: "Dispose", Arguments.Length: 0 } dispose && ReferenceEquals(dispose.Instance?.WithoutConversions(), reference))
            {
                if (dispose.IsInFinally())
                {
                    return null;
                }

                disposedOutsideFinally = true;
                continue;
            }

            return null; // returned, passed on, stored elsewhere: not this method's to dispose
        }

        return (Local, disposedOutsideFinally
            ? $"is not disposed if an exception is thrown before '{local.Name}.Dispose()' (it is not in a 'finally')"
            : $"is never disposed ('{local.Name}')");
    }
}
