using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace IntervalNotifier.Analyzers;

/// <summary>
/// INN0007: an <c>InvalidateStart</c> implementation that returns the constant
/// <see langword="false"/> on a path where its <c>out</c> record was last assigned something
/// other than <see langword="null"/>. A record assigned through an <c>out</c> argument (say
/// <c>TryRent(out finish)</c>) is not followed.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class RecordWithFalseAnalyzer() : ProtocolAnalyzer(OperationKind.MethodBody)
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rules.RecordWithFalse];

    private protected override void Analyze(OperationAnalysisContext context, KnownSymbols known)
    {
        if (known.CallbackOf(context.ContainingSymbol) != Callback.InvalidateStart
            || context.ContainingSymbol is not IMethodSymbol { Parameters.Length: 4 } method)
        {
            return;
        }

        IParameterSymbol finish = method.Parameters[3];
        ControlFlowGraph graph = ControlFlowGraph.Create((IMethodBodyOperation)context.Operation, context.CancellationToken);
        bool[] mayHoldAtStart = ForwardFlow.StatesAtStart(
            graph,
            entry: false,
            unreached: false,
            initial: false,
            join: (a, b) => a || b,
            transfer: (block, holds) => Transfer(block, holds, finish),
            EqualityComparer<bool>.Default);

        foreach (BasicBlock block in graph.Blocks)
        {
            if (ForwardFlow.ReturnsConstant(block, false) && Transfer(block, mayHoldAtStart[block.Ordinal], finish))
            {
                context.ReportDiagnostic(Diagnostic.Create(Rules.RecordWithFalse, ForwardFlow.ReturnLocation(block), finish.Name));
            }
        }
    }

    // Whether the out parameter may hold a record after the block: its last assignment decides.
    private static bool Transfer(BasicBlock block, bool holds, IParameterSymbol finish)
    {
        foreach (IOperation operation in ForwardFlow.Executed(block))
        {
            if (operation is ISimpleAssignmentOperation { Target: IParameterReferenceOperation target } assignment
                && SymbolEqualityComparer.Default.Equals(target.Parameter, finish))
            {
                holds = !IsNull(assignment.Value);
            }
        }

        return holds;
    }

    private static bool IsNull(IOperation value)
    {
        IOperation? bare = value.WithoutConversions();
        return bare is IDefaultValueOperation || bare?.ConstantValue is { HasValue: true, Value: null } || value.ConstantValue is { HasValue: true, Value: null };
    }
}
