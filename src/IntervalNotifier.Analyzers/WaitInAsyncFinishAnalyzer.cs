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
public sealed class WaitInAsyncFinishAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rules.WaitInAsyncFinish];

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (KnownSymbols.Create(start.Compilation) is { } known)
            {
                start.RegisterOperationAction(c => Analyze(c, known), OperationKind.Invocation);
            }
        });
    }

    private static void Analyze(OperationAnalysisContext context, KnownSymbols known)
    {
        var call = (IInvocationOperation)context.Operation;
        if (context.ContainingSymbol is IMethodSymbol callback
            && known.CallbackOf(callback) == Callback.InvalidateFinishAsync
            && SelfWait.Waits(call, callback, known))
        {
            bool canDefer = SelfWait.CanDefer(call);
            context.ReportDiagnostic(Diagnostic.Create(
                Rules.WaitInAsyncFinish,
                call.Syntax.GetLocation(),
                canDefer ? ImmutableDictionary<string, string?>.Empty.Add(SelfWait.FixKey, "UnsubscribeDeferred") : null,
                call.TargetMethod.Name,
                canDefer ? "; call UnsubscribeDeferred() instead" : string.Empty));
        }
    }
}
