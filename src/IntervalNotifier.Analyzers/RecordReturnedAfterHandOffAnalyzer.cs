using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace IntervalNotifier.Analyzers;

/// <summary>
/// INN0008: <c>FinishRecordPool&lt;T&gt;.Return</c> of a record the core owns. In
/// <c>InvalidateFinish</c> / <c>InvalidateFinishAsync</c>: the <c>finish</c> parameter (or a local
/// cast from it). In <c>InvalidateStart</c>: a local that the <c>out</c> parameter still holds
/// when the method returns something other than the constant <see langword="false"/>, returned
/// to its pool before that return or in a <c>finally</c> on the way out.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class RecordReturnedAfterHandOffAnalyzer() : ProtocolAnalyzer(OperationKind.MethodBody)
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => [Rules.RecordReturnedAfterHandOff];

    private protected override void Analyze(OperationAnalysisContext context, KnownSymbols known)
    {
        if (context.ContainingSymbol is not IMethodSymbol method)
        {
            return;
        }

        var body = (IMethodBodyOperation)context.Operation;
        switch (known.CallbackOf(method))
        {
            case Callback.InvalidateFinish or Callback.InvalidateFinishAsync when method.Parameters.Length == 1:
                foreach (IInvocationOperation call in ReturnsOfFinish(body, method.Parameters[0], known))
                {
                    context.ReportDiagnostic(Diagnostic.Create(Rules.RecordReturnedAfterHandOff, call.Syntax.GetLocation(), method.Parameters[0].Name, method.Name));
                }

                break;
            case Callback.InvalidateStart when method.Parameters.Length == 4:
                foreach ((ILocalSymbol record, IInvocationOperation call) in ReturnsAfterHandOff(body, method.Parameters[3], known, context.CancellationToken))
                {
                    context.ReportDiagnostic(Diagnostic.Create(Rules.RecordReturnedAfterHandOff, call.Syntax.GetLocation(), record.Name, method.Name));
                }

                break;
        }
    }

    internal static IInvocationOperation? PoolReturn(IOperation operation, KnownSymbols known) =>
        operation is IInvocationOperation { TargetMethod.Name: "Return", Arguments.Length: 1 } call
        && KnownSymbols.Is(call.TargetMethod, known.FinishRecordPool, "Return") ? call : null;

    // The finish parameter and the locals that are it under another type.
    private static IEnumerable<IInvocationOperation> ReturnsOfFinish(IOperation body, IParameterSymbol finish, KnownSymbols known)
    {
        bool IsFinish(IOperation? value) => value.WithoutConversions() is IParameterReferenceOperation p && SymbolEqualityComparer.Default.Equals(p.Parameter, finish);

        var aliases = new HashSet<ILocalSymbol>(SymbolEqualityComparer.Default);
        foreach (IOperation operation in body.Descendants())
        {
            switch (operation)
            {
                case IVariableDeclaratorOperation { Initializer.Value: var value } declarator when IsFinish(value):
                    aliases.Add(declarator.Symbol);
                    break;
                case IDeclarationPatternOperation { DeclaredSymbol: ILocalSymbol local } pattern when pattern.Parent is IIsPatternOperation isPattern && IsFinish(isPattern.Value):
                    aliases.Add(local);
                    break;
                case ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment when IsFinish(assignment.Value):
                    aliases.Add(target.Local);
                    break;
            }
        }

        foreach (IOperation operation in body.Descendants())
        {
            if (PoolReturn(operation, known) is { } call
                && (IsFinish(call.Arguments[0].Value) || call.Arguments[0].Value.WithoutConversions() is ILocalReferenceOperation l && aliases.Contains(l.Local)))
            {
                yield return call;
            }
        }
    }

    private static IEnumerable<(ILocalSymbol Record, IInvocationOperation Call)> ReturnsAfterHandOff(IMethodBodyOperation body, IParameterSymbol finish, KnownSymbols known, CancellationToken cancellationToken)
    {
        ControlFlowGraph graph = ControlFlowGraph.Create(body, cancellationToken);
        HandOff[] atStart = ForwardFlow.StatesAtStart(
            graph,
            entry: HandOff.Entry,
            unreached: HandOff.Entry, // a handler: as if nothing were held
            initial: HandOff.None,
            join: HandOff.Join,
            transfer: (block, state) => ForwardFlow.Executed(block).Aggregate(state, (s, o) => s.After(o, finish, known)),
            EqualityComparer<HandOff>.Default);

        var reported = new HashSet<IInvocationOperation>();
        foreach (BasicBlock block in graph.Blocks)
        {
            if (!ForwardFlow.Returns(block) || ForwardFlow.ReturnsConstant(block, false))
            {
                continue;
            }

            HandOff state = ForwardFlow.Executed(block).Concat(ForwardFlow.FinallyBlocksOnReturn(graph, block).SelectMany(ForwardFlow.Executed))
                .Aggregate(atStart[block.Ordinal], (s, o) => s.After(o, finish, known));
            foreach (PathState path in state.Paths)
            {
                foreach ((ILocalSymbol record, IInvocationOperation call) in path.Returned)
                {
                    if (SymbolEqualityComparer.Default.Equals(record, path.Held) && reported.Add(call))
                    {
                        yield return (record, call);
                    }
                }
            }
        }
    }

    /// <summary>The states the paths that reach a point may be in (a path's facts stay together, so that no two paths' facts are combined).</summary>
    private sealed class HandOff(ImmutableHashSet<PathState> paths) : IEquatable<HandOff>
    {
        /// <summary>The method's entry: one path, nothing held, nothing returned.</summary>
        public static readonly HandOff Entry = new([PathState.Start]);

        /// <summary>No path (yet).</summary>
        public static readonly HandOff None = new([]);

        public ImmutableHashSet<PathState> Paths => paths;

        public static HandOff Join(HandOff a, HandOff b) => new(a.Paths.Union(b.Paths));

        public HandOff After(IOperation operation, IParameterSymbol finish, KnownSymbols known) =>
            new(paths.Select(p => p.After(operation, finish, known)).ToImmutableHashSet());

        public bool Equals(HandOff? other) => other is not null && paths.SetEquals(other.Paths);

        public override bool Equals(object? obj) => Equals(obj as HandOff);

        public override int GetHashCode() => paths.Count;
    }

    /// <summary>On one path: the local the out parameter holds (if any), and the pool returns of each local since it was last assigned.</summary>
    private sealed class PathState(ILocalSymbol? held, ImmutableHashSet<(ILocalSymbol Record, IInvocationOperation Call)> returned) : IEquatable<PathState>
    {
        public static readonly PathState Start = new(null, []);

        public ILocalSymbol? Held => held;

        public ImmutableHashSet<(ILocalSymbol Record, IInvocationOperation Call)> Returned => returned;

        public PathState After(IOperation operation, IParameterSymbol finish, KnownSymbols known)
        {
            switch (operation)
            {
                case ISimpleAssignmentOperation { Target: IParameterReferenceOperation target } assignment when SymbolEqualityComparer.Default.Equals(target.Parameter, finish):
                    return new((assignment.Value.WithoutConversions() as ILocalReferenceOperation)?.Local, returned);
                case ISimpleAssignmentOperation { Target: ILocalReferenceOperation target }:
                    return Forget(target.Local);
                case IArgumentOperation { Parameter.RefKind: RefKind.Out } argument when Written(argument.Value) is { } rented:
                    return Forget(rented);
            }

            return RecordReturnedAfterHandOffAnalyzer.PoolReturn(operation, known) is { } call && call.Arguments[0].Value.WithoutConversions() is ILocalReferenceOperation record
                ? new(held, returned.Add((record.Local, call)))
                : this;
        }

        public bool Equals(PathState? other) =>
            other is not null && SymbolEqualityComparer.Default.Equals(held, other.Held) && returned.SetEquals(other.Returned);

        public override bool Equals(object? obj) => Equals(obj as PathState);

        public override int GetHashCode() => (held is null ? 0 : SymbolEqualityComparer.Default.GetHashCode(held)) ^ returned.Count;

        private static ILocalSymbol? Written(IOperation value) => value switch
        {
            ILocalReferenceOperation local => local.Local,
            IDeclarationExpressionOperation { Expression: ILocalReferenceOperation local } => local.Local,
            _ => null,
        };

        // A new value in the local (a new rent): its earlier returns no longer concern it.
        private PathState Forget(ILocalSymbol local) =>
            new(held, returned.Except(returned.Where(r => SymbolEqualityComparer.Default.Equals(r.Record, local))));
    }
}
