using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace IntervalNotifier.Analyzers;

/// <summary>
/// INN0005: inside <c>Invalidate</c>, <c>InvalidateStart</c> or <c>InvalidateFinish</c>, an
/// unsubscribe (<c>Unsubscribe</c>, <c>Dispose</c>, and their awaitable forms) of a subscription,
/// or a read begin on the callback's own subscription: each would wait for the invalidation that
/// runs the callback, so it throws. See <see cref="SelfWait"/>.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class WaitInCallbackAnalyzer() : ProtocolAnalyzer(OperationKind.Invocation)
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rules.WaitInCallback];

    private protected override void Analyze(OperationAnalysisContext context, KnownSymbols known)
    {
        var call = (IInvocationOperation)context.Operation;
        if (context.ContainingSymbol is IMethodSymbol callback
            && known.CallbackOf(callback) is Callback.Invalidate or Callback.InvalidateStart or Callback.InvalidateFinish
            && SelfWait.Waits(call, callback, known))
        {
            SelfWait.Report(context, Rules.WaitInCallback, call, callback.Name);
        }
    }
}
