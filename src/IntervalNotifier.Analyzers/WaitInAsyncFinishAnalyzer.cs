using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace IntervalNotifier.Analyzers;

/// <summary>
/// INN0006: inside <c>InvalidateFinishAsync</c> (whose continuations belong to the running
/// invalidation too), an unsubscribe of a subscription or a read begin on the finished record's
/// own subscription, awaited or not. See <see cref="SelfWait"/>.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class WaitInAsyncFinishAnalyzer() : ProtocolAnalyzer(OperationKind.Invocation)
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rules.WaitInAsyncFinish];

    private protected override void Analyze(OperationAnalysisContext context, KnownSymbols known)
    {
        var call = (IInvocationOperation)context.Operation;
        if (context.ContainingSymbol is IMethodSymbol callback
            && known.CallbackOf(callback) == Callback.InvalidateFinishAsync
            && SelfWait.Waits(call, callback, known))
        {
            SelfWait.Report(context, Rules.WaitInAsyncFinish, call, null);
        }
    }
}
