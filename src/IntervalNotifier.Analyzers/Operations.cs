using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace IntervalNotifier.Analyzers;

/// <summary>Small questions about operation trees that several rules ask.</summary>
internal static class Operations
{
    /// <summary>The operation without the implicit and explicit conversions around it (casts, <c>as</c>).</summary>
    public static IOperation? WithoutConversions(this IOperation? operation)
    {
        while (operation is IConversionOperation conversion)
        {
            operation = conversion.Operand;
        }

        return operation;
    }

    /// <summary>The first ancestor that is not a conversion.</summary>
    public static IOperation? ParentSkippingConversions(this IOperation operation)
    {
        IOperation? parent = operation.Parent;
        while (parent is IConversionOperation)
        {
            parent = parent.Parent;
        }

        return parent;
    }

    /// <summary>The root of the operation tree <paramref name="operation"/> belongs to (a method body, a field initializer, …).</summary>
    public static IOperation Root(this IOperation operation)
    {
        while (operation.Parent is not null)
        {
            operation = operation.Parent;
        }

        return operation;
    }

    /// <summary>The lambda or local function whose body holds <paramref name="operation"/>, or <see langword="null"/> when it is the member's own body.</summary>
    public static IOperation? EnclosingFunction(this IOperation operation)
    {
        for (IOperation? parent = operation.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                return parent;
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="operation"/> lies in the <c>finally</c> block of a <c>try</c>.</summary>
    public static bool IsInFinally(this IOperation operation)
    {
        for (IOperation child = operation; child.Parent is not null; child = child.Parent)
        {
            if (child.Parent is ITryOperation @try && ReferenceEquals(@try.Finally, child))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The value a call produces for its caller: the call, or the <c>await</c> of it (through <c>ConfigureAwait</c>).</summary>
    public static IOperation AwaitedOrSelf(this IInvocationOperation invocation)
    {
        IOperation value = invocation;
        if (value.Parent is IInvocationOperation { TargetMethod.Name: "ConfigureAwait" } configure && ReferenceEquals(configure.Instance, value))
        {
            value = configure;
        }

        return value.Parent is IAwaitOperation await ? await : invocation;
    }

    /// <summary>Whether the value of <paramref name="value"/> is thrown away: an expression statement or <c>_ = …</c>.</summary>
    public static bool IsDiscarded(this IOperation value) =>
        value.ParentSkippingConversions() switch
        {
            IExpressionStatementOperation => true,
            ISimpleAssignmentOperation { Target: IDiscardOperation } assignment => ReferenceEquals(assignment.Value.WithoutConversions(), value),
            _ => false,
        };

    /// <summary>The local that <paramref name="value"/> is stored into directly (declaration or assignment), if any.</summary>
    public static ILocalSymbol? StoredInLocal(this IOperation value) =>
        value.ParentSkippingConversions() switch
        {
            IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } => declarator.Symbol,
            ISimpleAssignmentOperation { Target: ILocalReferenceOperation local } assignment when ReferenceEquals(assignment.Value.WithoutConversions(), value) => local.Local,
            _ => null,
        };

    /// <summary>Every reference to <paramref name="local"/> under <paramref name="root"/>.</summary>
    public static IEnumerable<ILocalReferenceOperation> ReferencesTo(this IOperation root, ILocalSymbol local) =>
        root.Descendants().OfType<ILocalReferenceOperation>().Where(r => SymbolEqualityComparer.Default.Equals(r.Local, local));

    /// <summary>Whether <paramref name="reference"/> writes the local (assignment target, <c>out</c> argument, declaration).</summary>
    public static bool IsWrite(this ILocalReferenceOperation reference) =>
        reference.IsDeclaration
        || reference.Parent is ISimpleAssignmentOperation assignment && ReferenceEquals(assignment.Target, reference)
        || reference.Parent is IArgumentOperation { Parameter.RefKind: RefKind.Out }
        || reference.Parent is IDeclarationExpressionOperation;

    /// <summary>The descendants of <paramref name="operation"/> that run as part of it: lambdas and local functions are not entered.</summary>
    public static IEnumerable<IOperation> DescendantsInSameFunction(this IOperation operation)
    {
        var stack = new Stack<IOperation>(operation.ChildOperations.Reverse());
        while (stack.Count > 0)
        {
            IOperation next = stack.Pop();
            yield return next;
            if (next is not (IAnonymousFunctionOperation or ILocalFunctionOperation))
            {
                foreach (IOperation child in next.ChildOperations.Reverse())
                {
                    stack.Push(child);
                }
            }
        }
    }

    /// <summary>Whether <paramref name="operation"/> suspends its method: <c>await</c>, <c>await using</c>, <c>await foreach</c>.</summary>
    public static bool IsAwait(this IOperation operation) =>
        operation is IAwaitOperation
            or IUsingOperation { IsAsynchronous: true }
            or IUsingDeclarationOperation { IsAsynchronous: true }
            or IForEachLoopOperation { IsAsynchronous: true };
}
