using IntervalNotifier.CodeFixes;
using Verifier = IntervalNotifier.Analyzers.Tests.Verify<IntervalNotifier.Analyzers.SyncScopeAcrossAwaitAnalyzer>;

namespace IntervalNotifier.Analyzers.Tests.Rules;

/// <summary>INN0002: a synchronous scope alive across an <c>await</c>.</summary>
public sealed class SyncScopeAcrossAwaitTests
{
    private static string Method(string body) => $$"""
        static class C
        {
            static async Task M(AddressSpace space, InvalidationRange range, Task work)
            {
        {{body}}
            }
        }
        """;

    [Fact]
    public Task UsingStatement_AwaitInBody_Reports() =>
        Verifier.AnalyzerAsync(Method("""
                    using ({|#0:space.BeginInvalidation(range)|})
                    {
                        {|#1:await work|};
                    }
            """), Verifier.Diagnostic().WithLocation(1));

    [Fact]
    public Task UsingDeclaration_AwaitLaterInBlock_Reports() =>
        Verifier.AnalyzerAsync(Method("""
                    using InvalidationScope scope = {|#0:space.BeginInvalidation(range)|};
                    if (range.Start == 0)
                    {
                        {|#1:await work.ConfigureAwait(false)|};
                    }
            """), Verifier.Diagnostic().WithLocation(1));

    [Fact]
    public Task TryBeginInvalidation_AwaitInsideUsingOfItsScope_Reports() =>
        Verifier.AnalyzerAsync(Method("""
                    if ({|#0:space.TryBeginInvalidation(range, out InvalidationScope scope)|})
                    {
                        using (scope)
                        {
                            {|#1:await work|};
                        }
                    }
            """), Verifier.Diagnostic().WithLocation(1));

    [Fact]
    public Task DisposedInFinally_AwaitInTry_Reports() =>
        Verifier.AnalyzerAsync(Method("""
                    InvalidationScope scope = {|#0:space.BeginInvalidation(range)|};
                    try
                    {
                        {|#1:await foreach (int i in Numbers())
                        {
                        }|}
                    }
                    finally
                    {
                        scope.Dispose();
                    }

                    static async System.Collections.Generic.IAsyncEnumerable<int> Numbers()
                    {
                        await Task.Yield();
                        yield return 1;
                    }
            """), Verifier.Diagnostic().WithLocation(1));

    [Fact]
    public Task AwaitOutsideTheScope_OrInALambda_DoesNotReport() =>
        Verifier.AnalyzerAsync(Method("""
                    await work;
                    using (space.BeginInvalidation(range))
                    {
                        Func<Task> later = async () => await work;
                        _ = later;
                    }

                    await work;
                    using (await space.BeginInvalidationAsync(range))
                    {
                        await work;
                    }
            """));

    [Fact]
    public Task Fix_UsingStatement_AwaitsBeginInvalidationAsync() =>
        Verifier.FixAsync<UseBeginInvalidationAsyncCodeFix>(
            Method("""
                    using ({|#0:space.BeginInvalidation(in range)|})
                    {
                        {|#1:await work|};
                    }
            """),
            Method("""
                    using (await space.BeginInvalidationAsync(range))
                    {
                        await work;
                    }
            """),
            Verifier.Diagnostic().WithLocation(1));

    [Fact]
    public Task Fix_UsingDeclaration_AwaitsBeginInvalidationAsync() =>
        Verifier.FixAsync<UseBeginInvalidationAsyncCodeFix>(
            Method("""
                    using InvalidationScope scope = {|#0:space.BeginInvalidation(range)|};
                    {|#1:await work|};
            """),
            Method("""
                    using InvalidationScope scope = await space.BeginInvalidationAsync(range);
                    await work;
            """),
            Verifier.Diagnostic().WithLocation(1));
}
