using Microsoft.CodeAnalysis;

namespace IntervalNotifier.Analyzers;

/// <summary>The library's types as the compilation sees them; <see langword="null"/> when it does not reference the library.</summary>
internal sealed class KnownSymbols
{
    private KnownSymbols(
        INamedTypeSymbol addressSpace,
        INamedTypeSymbol subscription,
        INamedTypeSymbol pool,
        INamedTypeSymbol record,
        IMethodSymbol invalidate,
        IMethodSymbol invalidateStart,
        IMethodSymbol invalidateFinish,
        IMethodSymbol invalidateFinishAsync,
        IPropertySymbol? rangeOwner,
        IPropertySymbol? rangeEvent)
    {
        AddressSpace = addressSpace;
        Subscription = subscription;
        FinishRecordPool = pool;
        FinishRecord = record;
        Invalidate = invalidate;
        InvalidateStart = invalidateStart;
        InvalidateFinish = invalidateFinish;
        InvalidateFinishAsync = invalidateFinishAsync;
        RangeOwner = rangeOwner;
        RangeEvent = rangeEvent;
    }

    public INamedTypeSymbol AddressSpace { get; }

    public INamedTypeSymbol Subscription { get; }

    /// <summary><c>FinishRecordPool&lt;T&gt;</c>, unbound.</summary>
    public INamedTypeSymbol FinishRecordPool { get; }

    public INamedTypeSymbol FinishRecord { get; }

    public IMethodSymbol Invalidate { get; }

    public IMethodSymbol InvalidateStart { get; }

    public IMethodSymbol InvalidateFinish { get; }

    public IMethodSymbol InvalidateFinishAsync { get; }

    public IPropertySymbol? RangeOwner { get; }

    public IPropertySymbol? RangeEvent { get; }

    public static KnownSymbols? Create(Compilation compilation)
    {
        INamedTypeSymbol? space = compilation.GetTypeByMetadataName("IntervalNotifier.AddressSpace");
        INamedTypeSymbol? subscription = compilation.GetTypeByMetadataName("IntervalNotifier.IntervalSubscription");
        INamedTypeSymbol? pool = compilation.GetTypeByMetadataName("IntervalNotifier.FinishRecordPool`1");
        INamedTypeSymbol? record = compilation.GetTypeByMetadataName("IntervalNotifier.FinishRecord");
        INamedTypeSymbol? range = compilation.GetTypeByMetadataName("IntervalNotifier.InvalidationRange");
        IMethodSymbol? invalidate = Method(compilation, "IntervalNotifier.IIntervalInvalidator", "Invalidate");
        IMethodSymbol? start = Method(compilation, "IntervalNotifier.ITwoPassIntervalInvalidator", "InvalidateStart");
        IMethodSymbol? finish = Method(compilation, "IntervalNotifier.ITwoPassIntervalInvalidator", "InvalidateFinish");
        IMethodSymbol? finishAsync = Method(compilation, "IntervalNotifier.IAsyncTwoPassIntervalInvalidator", "InvalidateFinishAsync");
        if (space is null || subscription is null || pool is null || record is null || invalidate is null || start is null || finish is null || finishAsync is null)
        {
            return null;
        }

        return new KnownSymbols(
            space, subscription, pool, record, invalidate, start, finish, finishAsync,
            range?.GetMembers("Owner").OfType<IPropertySymbol>().FirstOrDefault(),
            range?.GetMembers("Event").OfType<IPropertySymbol>().FirstOrDefault());
    }

    /// <summary>Whether <paramref name="method"/> is the member <paramref name="name"/> of <paramref name="type"/> (any type arguments).</summary>
    public static bool Is(IMethodSymbol method, INamedTypeSymbol type, string name) =>
        method.Name == name && SymbolEqualityComparer.Default.Equals(method.ContainingType?.OriginalDefinition, type);

    /// <summary>Which callback of the invalidator interfaces <paramref name="method"/> implements, if any.</summary>
    public Callback CallbackOf(ISymbol? symbol)
    {
        if (symbol is not IMethodSymbol { MethodKind: MethodKind.Ordinary or MethodKind.ExplicitInterfaceImplementation } method)
        {
            return Callback.None;
        }

        for (IMethodSymbol? m = method; m is not null; m = m.OverriddenMethod)
        {
            Callback kind = Implemented(m);
            if (kind != Callback.None)
            {
                return kind;
            }
        }

        return Callback.None;
    }

    private Callback Implemented(IMethodSymbol method)
    {
        foreach (IMethodSymbol explicitImplementation in method.ExplicitInterfaceImplementations)
        {
            Callback kind = Kind(explicitImplementation.OriginalDefinition);
            if (kind != Callback.None)
            {
                return kind;
            }
        }

        INamedTypeSymbol type = method.ContainingType;
        foreach (IMethodSymbol member in new[] { Invalidate, InvalidateStart, InvalidateFinish, InvalidateFinishAsync })
        {
            if (method.Name == member.Name
                && type.AllInterfaces.Any(i => SymbolEqualityComparer.Default.Equals(i.OriginalDefinition, member.ContainingType))
                && SymbolEqualityComparer.Default.Equals(type.FindImplementationForInterfaceMember(member), method))
            {
                return Kind(member);
            }
        }

        return Callback.None;
    }

    private Callback Kind(IMethodSymbol member) =>
        SymbolEqualityComparer.Default.Equals(member, Invalidate) ? Callback.Invalidate
        : SymbolEqualityComparer.Default.Equals(member, InvalidateStart) ? Callback.InvalidateStart
        : SymbolEqualityComparer.Default.Equals(member, InvalidateFinish) ? Callback.InvalidateFinish
        : SymbolEqualityComparer.Default.Equals(member, InvalidateFinishAsync) ? Callback.InvalidateFinishAsync
        : Callback.None;

    private static IMethodSymbol? Method(Compilation compilation, string type, string name) =>
        compilation.GetTypeByMetadataName(type)?.GetMembers(name).OfType<IMethodSymbol>().FirstOrDefault();
}

/// <summary>The invalidator callbacks a method can implement.</summary>
internal enum Callback
{
    None,
    Invalidate,
    InvalidateStart,
    InvalidateFinish,
    InvalidateFinishAsync,
}
