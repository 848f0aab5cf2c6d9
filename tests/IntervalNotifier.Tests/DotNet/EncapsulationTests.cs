using System.Reflection;

namespace IntervalNotifier.Tests.DotNet;

/// <summary>
/// docs/contract.md §8 (misuse is an exception, never a silent corruption): no public base class or
/// member lets a user link a subscription or a finish record into a structure of their own, or
/// unlink one behind the address space's back.
/// </summary>
[Trait("Found", "design review")]
public sealed class EncapsulationTests
{
    private static readonly Assembly Library = typeof(AddressSpace).Assembly;

    public static TheoryData<Type> CoreTypes => [typeof(IntervalSubscription), typeof(FinishRecord)];

    [Theory]
    [MemberData(nameof(CoreTypes))]
    public void CoreType_DerivesFromNoPublicLibraryType(Type type)
    {
        Assert.Equal(typeof(object), type.BaseType);
    }

    [Theory]
    [MemberData(nameof(CoreTypes))]
    public void CoreType_ExposesNoCollectionTypeThroughAnyVisibleMember(Type type)
    {
        const BindingFlags visible = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;
        foreach (MemberInfo member in type.GetMembers(visible))
        {
            bool isVisible = member switch
            {
                FieldInfo f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly,
                MethodBase m => m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly,
                PropertyInfo p => p.GetMethod is { } g && (g.IsPublic || g.IsFamily),
                _ => false,
            };
            if (!isVisible)
            {
                continue;
            }

            IEnumerable<Type> types = member switch
            {
                FieldInfo f => [f.FieldType],
                PropertyInfo p => [p.PropertyType],
                MethodInfo m => [m.ReturnType, .. m.GetParameters().Select(p => p.ParameterType)],
                ConstructorInfo c => c.GetParameters().Select(p => p.ParameterType),
                _ => [],
            };
            foreach (Type t in types)
            {
                Assert.False(t.Assembly == Library && t.Namespace == "IntervalNotifier.Collections",
                    $"{type.Name}.{member.Name} exposes {t}");
            }
        }
    }
}
