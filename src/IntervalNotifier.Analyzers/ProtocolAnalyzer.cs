using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace IntervalNotifier.Analyzers;

/// <summary>
/// What every rule of this assembly does the same way: no generated code, concurrent execution,
/// and one operation action per compilation that references IntervalNotifier (none otherwise).
/// </summary>
/// <param name="kind">The operation the rule looks at.</param>
public abstract class ProtocolAnalyzer(OperationKind kind) : DiagnosticAnalyzer
{
    public sealed override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (KnownSymbols.Create(start.Compilation) is { } known)
            {
                start.RegisterOperationAction(c => Analyze(c, known), kind);
            }
        });
    }

    /// <summary>Looks at one operation of the rule's kind.</summary>
    private protected abstract void Analyze(OperationAnalysisContext context, KnownSymbols known);
}
