using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace IntervalNotifier.Analyzers;

/// <summary>
/// A forward data-flow pass over a method's control-flow graph, iterated to a fixed point: the
/// state at the start of a block is the join of its predecessors' states at their end. Blocks
/// that only exceptional flow reaches (catch and finally handlers) start from "unreached".
/// </summary>
internal static class ForwardFlow
{
    /// <summary>The state at the start of every block, indexed by ordinal.</summary>
    public static T[] StatesAtStart<T>(ControlFlowGraph graph, T entry, T unreached, T initial, Func<T, T, T> join, Func<BasicBlock, T, T> transfer, IEqualityComparer<T> comparer)
    {
        var atEnd = new T[graph.Blocks.Length];
        var atStart = new T[graph.Blocks.Length];
        for (int i = 0; i < atEnd.Length; i++)
        {
            atEnd[i] = initial;
        }

        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (BasicBlock block in graph.Blocks)
            {
                T start = block.Kind == BasicBlockKind.Entry ? entry
                    : block.Predecessors.IsEmpty ? unreached
                    : block.Predecessors.Skip(1).Aggregate(atEnd[block.Predecessors[0].Source.Ordinal], (state, branch) => join(state, atEnd[branch.Source.Ordinal]));
                atStart[block.Ordinal] = start;
                T end = transfer(block, start);
                if (!comparer.Equals(end, atEnd[block.Ordinal]))
                {
                    atEnd[block.Ordinal] = end;
                    changed = true;
                }
            }
        }

        return atStart;
    }

    /// <summary>What a block runs, in order (pre-order within each operation): its operations, then its branch value.</summary>
    public static IEnumerable<IOperation> Executed(BasicBlock block)
    {
        foreach (IOperation operation in block.Operations)
        {
            foreach (IOperation o in operation.DescendantsAndSelf())
            {
                yield return o;
            }
        }

        if (block.BranchValue is { } value)
        {
            foreach (IOperation o in value.DescendantsAndSelf())
            {
                yield return o;
            }
        }
    }

    /// <summary>Whether <paramref name="block"/> ends by returning from the method; its branch value is the returned value.</summary>
    public static bool Returns(BasicBlock block) =>
        block.FallThroughSuccessor?.Semantics == ControlFlowBranchSemantics.Return && block.BranchValue is not null;

    /// <summary>Whether the returned value is the constant <paramref name="value"/>.</summary>
    public static bool ReturnsConstant(BasicBlock block, bool value) =>
        Returns(block) && block.BranchValue!.ConstantValue is { HasValue: true, Value: bool b } && b == value;

    /// <summary>Where to report a return: the <c>return</c> statement, or the expression of an expression body.</summary>
    public static Location ReturnLocation(BasicBlock block)
    {
        SyntaxNode syntax = block.BranchValue!.Syntax;
        return (syntax.Parent is ReturnStatementSyntax statement ? statement : syntax).GetLocation();
    }

    /// <summary>The blocks of the finally handlers a return runs on its way out, in order.</summary>
    public static IEnumerable<BasicBlock> FinallyBlocksOnReturn(ControlFlowGraph graph, BasicBlock block)
    {
        foreach (ControlFlowRegion region in block.FallThroughSuccessor?.FinallyRegions ?? [])
        {
            for (int i = region.FirstBlockOrdinal; i <= region.LastBlockOrdinal; i++)
            {
                yield return graph.Blocks[i];
            }
        }
    }
}
