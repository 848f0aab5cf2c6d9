using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace IntervalNotifier.Analyzers.Tests;

/// <summary>
/// Source with markup in, diagnostics (and fixed source) out: the Roslyn testing library,
/// framework-agnostic (<see cref="DefaultVerifier"/>). Sources compile against the running
/// runtime's assemblies and the library's, so no reference-assembly package is downloaded.
/// </summary>
internal static class Verify<TAnalyzer>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    /// <summary>The usings every test source starts with.</summary>
    public const string Header = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using IntervalNotifier;

        """;

    /// <summary>The analyzer's diagnostic expected at the markup <c>{|#n:…|}</c> with that index (its message is not compared).</summary>
    public static DiagnosticResult Diagnostic(int location = 0)
    {
        DiagnosticDescriptor rule = new TAnalyzer().SupportedDiagnostics[0];
        return new DiagnosticResult(rule.Id, rule.DefaultSeverity).WithLocation(location);
    }

    /// <summary>Analyzes <paramref name="source"/> (after <see cref="Header"/>): the diagnostics must be exactly the marked ones.</summary>
    public static Task AnalyzerAsync(string source, params DiagnosticResult[] expected)
    {
        var test = new AnalyzerTest { TestCode = Header + source };
        Configure(test.TestState, test.SolutionTransforms);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Analyzes <paramref name="source"/>, applies <typeparamref name="TFix"/> and compares with <paramref name="fixedSource"/>.</summary>
    public static Task FixAsync<TFix>(string source, string fixedSource, params DiagnosticResult[] expected)
        where TFix : CodeFixProvider, new()
    {
        var test = new FixTest<TFix> { TestCode = Header + source, FixedCode = Header + fixedSource };
        Configure(test.TestState, test.SolutionTransforms);
        Configure(test.FixedState, []);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync(TestContext.Current.CancellationToken);
    }

    private static void Configure(SolutionState state, List<Func<Solution, ProjectId, Solution>> transforms)
    {
        state.ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        state.AdditionalReferences.AddRange(References.Value);
        transforms.Add((solution, project) =>
        {
            var options = (CSharpCompilationOptions)solution.GetProject(project)!.CompilationOptions!;
            return solution.WithProjectCompilationOptions(project, options.WithNullableContextOptions(NullableContextOptions.Enable));
        });
    }

    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        // The shared framework only (the test's own dependencies, Roslyn among them, stay out).
        string framework = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        string[] platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return [.. platform.Where(p => Path.GetDirectoryName(p) == framework).Select(p => MetadataReference.CreateFromFile(p)),
            MetadataReference.CreateFromFile(typeof(AddressSpace).Assembly.Location),
            MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.ObjectPool.IResettable).Assembly.Location)];
    });

    private sealed class AnalyzerTest : CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>;

    private sealed class FixTest<TFix> : CSharpCodeFixTest<TAnalyzer, TFix, DefaultVerifier>
        where TFix : CodeFixProvider, new();
}
