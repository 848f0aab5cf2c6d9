using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace IntervalNotifier.Analyzers;

/// <summary>
/// Calls that wait for the invalidation running a callback (docs/contract.md §3, §5): every
/// unsubscribe form (while brackets are open, a subscription in the tree is removed only at their
/// end), and a read begin on the subscription the invalidation hit — the callback's own
/// (<c>subscription</c>, or a record's <c>Subscription</c>). A read begin on another
/// subscription waits only if the invalidation hit it too, which the source does not show.
/// </summary>
internal static class SelfWait
{
    /// <summary>The code fix's property: the call can become <c>UnsubscribeDeferred()</c>.</summary>
    internal const string FixKey = "Fix";

    /// <summary>
    /// Reports <paramref name="rule"/> at <paramref name="call"/>, with the code fix's property
    /// when the call can become <c>UnsubscribeDeferred()</c>. The message's arguments: the call's
    /// name, then <paramref name="callbackName"/> if given, then the fix's hint (or nothing).
    /// </summary>
    public static void Report(OperationAnalysisContext context, DiagnosticDescriptor rule, IInvocationOperation call, string? callbackName)
    {
        bool canDefer = CanDefer(call);
        string hint = canDefer ? "; call UnsubscribeDeferred() instead" : string.Empty;
        context.ReportDiagnostic(Diagnostic.Create(
            rule,
            call.Syntax.GetLocation(),
            canDefer ? ImmutableDictionary<string, string?>.Empty.Add(FixKey, "UnsubscribeDeferred") : null,
            callbackName is null ? [call.TargetMethod.Name, hint] : [call.TargetMethod.Name, callbackName, hint]));
    }

    public static bool Waits(IInvocationOperation call, IMethodSymbol callback, KnownSymbols known)
    {
        if (!SymbolEqualityComparer.Default.Equals(call.TargetMethod.ContainingType, known.Subscription) || call.EnclosingFunction() is not null)
        {
            return false; // a lambda or local function may run later, outside the callback
        }

        return call.TargetMethod.Name switch
        {
            "Unsubscribe" or "Dispose" or "UnsubscribeAsync" or "DisposeAsync" => true,
            "ReadBegin" or "ReadBeginAsync" => IsOwnSubscription(call, callback, known),
            _ => false,
        };
    }

    /// <summary>Whether the call can be replaced by <c>UnsubscribeDeferred()</c> with nothing else changed.</summary>
    public static bool CanDefer(IInvocationOperation call) =>
        call.TargetMethod.Name switch
        {
            "Unsubscribe" or "Dispose" => true,
            "UnsubscribeAsync" or "DisposeAsync" => call.IsDiscarded() || call.AwaitedOrSelf() is IAwaitOperation awaited && awaited.IsDiscarded(),
            _ => false,
        };

    private static bool IsOwnSubscription(IInvocationOperation call, IMethodSymbol callback, KnownSymbols known)
    {
        IOperation? instance = call.Instance.WithoutConversions();
        if (instance is IConditionalAccessInstanceOperation)
        {
            for (IOperation? o = call.Parent; o is not null; o = o.Parent)
            {
                if (o is IConditionalAccessOperation access)
                {
                    instance = access.Operation.WithoutConversions();
                    break;
                }
            }
        }

        return instance switch
        {
            IParameterReferenceOperation parameter => SymbolEqualityComparer.Default.Equals(parameter.Parameter.ContainingSymbol, callback)
                && SymbolEqualityComparer.Default.Equals(parameter.Parameter.Type, known.Subscription),
            IPropertyReferenceOperation { Property.Name: "Subscription" } property => SymbolEqualityComparer.Default.Equals(property.Property.ContainingType, known.FinishRecord),
            _ => false,
        };
    }
}
