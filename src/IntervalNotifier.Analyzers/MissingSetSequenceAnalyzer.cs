using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace IntervalNotifier.Analyzers;

/// <summary>
/// INN0004: an <c>Invalidate</c> or <c>InvalidateStart</c> implementation with a path that returns
/// the constant <see langword="true"/> and calls no <c>SetSequence</c> before. Not reported: a
/// method that hands <c>currentSequence</c> on (to a helper, a record, a field, a lambda: the
/// helper may call <c>SetSequence</c>), a return right after a test of <c>range.Owner</c> or
/// <c>range.Event</c> (an event this mirror ignores on purpose), and a callback that does
/// nothing but return <see langword="true"/> (a subscriber that keeps no copy).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class MissingSetSequenceAnalyzer() : ProtocolAnalyzer(OperationKind.MethodBody)
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rules.MissingSetSequence];

    private protected override void Analyze(OperationAnalysisContext context, KnownSymbols known)
    {
        if (known.CallbackOf(context.ContainingSymbol) is not (Callback.Invalidate or Callback.InvalidateStart)
            || context.ContainingSymbol is not IMethodSymbol { Parameters.Length: >= 3 } method)
        {
            return;
        }

        var body = (IMethodBodyOperation)context.Operation;
        IParameterSymbol currentSequence = method.Parameters[2];
        if (DoesNothing(body) || HandsOn(body, currentSequence, known))
        {
            return;
        }

        ControlFlowGraph graph = ControlFlowGraph.Create(body, context.CancellationToken);
        bool[] setAtStart = ForwardFlow.StatesAtStart(
            graph,
            entry: false,
            unreached: true, // a handler's path is not followed: assume the call happened
            initial: true,   // "set on every path": start from the top, so loops converge to the largest solution
            join: (a, b) => a && b,
            transfer: (block, set) => set || ForwardFlow.Executed(block).Any(o => IsSetSequence(o, known)),
            EqualityComparer<bool>.Default);

        foreach (BasicBlock block in graph.Blocks)
        {
            if (ForwardFlow.ReturnsConstant(block, true)
                && !setAtStart[block.Ordinal]
                && !ForwardFlow.Executed(block).Any(o => IsSetSequence(o, known))
                && !AfterEventTest(block, known))
            {
                context.ReportDiagnostic(Diagnostic.Create(Rules.MissingSetSequence, ForwardFlow.ReturnLocation(block), method.Name));
            }
        }
    }

    private static bool IsSetSequence(IOperation operation, KnownSymbols known) =>
        operation is IInvocationOperation { TargetMethod.Name: "SetSequence" } call
        && SymbolEqualityComparer.Default.Equals(call.TargetMethod.ContainingType, known.Subscription);

    // currentSequence given to anything but SetSequence, stored, or captured: a helper may set it.
    private static bool HandsOn(IOperation body, IParameterSymbol currentSequence, KnownSymbols known)
    {
        foreach (IParameterReferenceOperation reference in body.Descendants().OfType<IParameterReferenceOperation>())
        {
            if (!SymbolEqualityComparer.Default.Equals(reference.Parameter, currentSequence))
            {
                continue;
            }

            if (reference.EnclosingFunction() is not null)
            {
                return true;
            }

            switch (reference.ParentSkippingConversions())
            {
                case IArgumentOperation { Parent: { } call } when IsSetSequence(call, known):
                    break;
                case IArgumentOperation or IAssignmentOperation or IVariableInitializerOperation or IReturnOperation
                    or ITupleOperation or IArrayInitializerOperation or IAnonymousObjectCreationOperation or IPropertyInitializerOperation:
                    return true;
            }
        }

        return false;
    }

    // `=> true` or `{ return true; }`: a subscriber that keeps no copy (an observer, a test double)
    // has nothing a racing read could publish stale.
    private static bool DoesNothing(IMethodBodyOperation body) =>
        (body.BlockBody ?? body.ExpressionBody) is { Operations.Length: 1 } block
        && block.Operations[0] is IReturnOperation { ReturnedValue.ConstantValue: { HasValue: true, Value: true } };

    // The return is taken right after a branch on range.Owner or range.Event.
    private static bool AfterEventTest(BasicBlock block, KnownSymbols known) =>
        block.Predecessors.Any(branch => branch.Source.BranchValue is { } condition
            && branch.Source.ConditionKind != ControlFlowConditionKind.None
            && condition.DescendantsAndSelf().OfType<IPropertyReferenceOperation>().Any(p =>
                SymbolEqualityComparer.Default.Equals(p.Property, known.RangeOwner)
                || SymbolEqualityComparer.Default.Equals(p.Property, known.RangeEvent)));
}
