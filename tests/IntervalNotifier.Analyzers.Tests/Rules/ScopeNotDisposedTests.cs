using IntervalNotifier.CodeFixes;
using Verifier = IntervalNotifier.Analyzers.Tests.Verify<IntervalNotifier.Analyzers.ScopeNotDisposedAnalyzer>;

namespace IntervalNotifier.Analyzers.Tests.Rules;

/// <summary>INN0001: a scope not disposed on every path.</summary>
public sealed class ScopeNotDisposedTests
{
    private static string Method(string body) => $$"""
        static class C
        {
            static async Task M(AddressSpace space, InvalidationRange range)
            {
        {{body}}
                await Task.CompletedTask;
            }

            static void Change() { }
        }
        """;

    [Fact]
    public Task BeginInvalidation_ResultDiscarded_Reports() =>
        Verifier.AnalyzerAsync(Method("""
                    {|#0:space.BeginInvalidation(range)|};
                    Change();
            """), Verifier.Diagnostic());

    [Fact]
    public Task BeginInvalidation_DiscardAssignment_Reports() =>
        Verifier.AnalyzerAsync(Method("""
                    _ = {|#0:space.BeginInvalidation(range)|};
            """), Verifier.Diagnostic());

    [Fact]
    public Task BeginInvalidation_LocalNeverDisposed_Reports() =>
        Verifier.AnalyzerAsync(Method("""
                    InvalidationScope scope = {|#0:space.BeginInvalidation(range)|};
                    Change();
            """), Verifier.Diagnostic());

    [Fact]
    public Task BeginInvalidation_DisposedOutsideFinally_Reports() =>
        Verifier.AnalyzerAsync(Method("""
                    InvalidationScope scope = {|#0:space.BeginInvalidation(range)|};
                    Change();
                    scope.Dispose();
            """), Verifier.Diagnostic());

    [Fact]
    public Task BeginInvalidationAsync_AwaitedResultDiscarded_Reports() =>
        Verifier.AnalyzerAsync(Method("""
                    await {|#0:space.BeginInvalidationAsync(range)|};
            """), Verifier.Diagnostic());

    [Fact]
    public Task BeginInvalidationAsync_TaskDiscarded_Reports() =>
        Verifier.AnalyzerAsync(Method("""
                    _ = {|#0:space.BeginInvalidationAsync(range)|};
            """), Verifier.Diagnostic());

    [Fact]
    public Task BeginInvalidationAsync_AwaitedIntoLocalDisposedOutsideFinally_Reports() =>
        Verifier.AnalyzerAsync(Method("""
                    InvalidationScope scope = await {|#0:space.BeginInvalidationAsync(range)|}.ConfigureAwait(false);
                    Change();
                    scope.Dispose();
            """), Verifier.Diagnostic());

    [Fact]
    public Task TryBeginInvalidation_OutDiscard_Reports() =>
        Verifier.AnalyzerAsync(Method("""
                    if ({|#0:space.TryBeginInvalidation(range, out _)|})
                    {
                        Change();
                    }
            """), Verifier.Diagnostic());

    [Fact]
    public Task TryBeginInvalidation_OutLocalNeverDisposed_Reports() =>
        Verifier.AnalyzerAsync(Method("""
                    if ({|#0:space.TryBeginInvalidation(range, out InvalidationScope scope)|})
                    {
                        Change();
                    }
            """), Verifier.Diagnostic());

    [Fact]
    public Task ScopesDisposedOnEveryPath_DoNotReport() =>
        Verifier.AnalyzerAsync(Method("""
                    using (space.BeginInvalidation(range))
                    {
                        Change();
                    }

                    using (InvalidationScope s1 = space.BeginInvalidation(range))
                    {
                    }

                    using (await space.BeginInvalidationAsync(range))
                    {
                    }

                    space.BeginInvalidation(range).Dispose();
                    (await space.BeginInvalidationAsync(range)).Dispose();

                    InvalidationScope s2 = space.BeginInvalidation(range);
                    try
                    {
                        Change();
                    }
                    finally
                    {
                        s2.Dispose();
                    }

                    if (space.TryBeginInvalidation(range, out InvalidationScope s3))
                    {
                        using (s3)
                        {
                            Change();
                        }
                    }

                    using InvalidationScope s4 = space.BeginInvalidation(range);
                    using InvalidationScope s5 = await space.BeginInvalidationAsync(range);
            """));

    [Fact]
    public Task ScopesThatLeaveTheMethod_DoNotReport() =>
        Verifier.AnalyzerAsync("""
            using System.Collections.Generic;

            sealed class Holder
            {
                private InvalidationScope _scope;

                InvalidationScope Begin(AddressSpace space, InvalidationRange range) => space.BeginInvalidation(range);

                InvalidationScope BeginLocal(AddressSpace space, InvalidationRange range)
                {
                    InvalidationScope scope = space.BeginInvalidation(range);
                    return scope;
                }

                void Keep(AddressSpace space, InvalidationRange range)
                {
                    _scope = space.BeginInvalidation(range);
                    InvalidationScope scope = space.BeginInvalidation(range);
                    Store(scope);
                }

                void Store(InvalidationScope scope) => _scope = scope;

                async Task Many(AddressSpace space, InvalidationRange range)
                {
                    var begins = new List<Task<InvalidationScope>>();
                    begins.Add(space.BeginInvalidationAsync(range).AsTask());
                    foreach (InvalidationScope scope in await Task.WhenAll(begins))
                    {
                        scope.Dispose();
                    }
                }
            }
            """);

    [Fact]
    public Task Fix_ResultDiscarded_DeclaresAUsingScope() =>
        Verifier.FixAsync<UseUsingCodeFix>(
            Method("""
                    {|#0:space.BeginInvalidation(range)|};
                    Change();
            """),
            Method("""
                    using InvalidationScope scope = space.BeginInvalidation(range);
                    Change();
            """),
            Verifier.Diagnostic());

    [Fact]
    public Task Fix_AwaitedResultDiscarded_DeclaresAUsingScope() =>
        Verifier.FixAsync<UseUsingCodeFix>(
            Method("""
                    await {|#0:space.BeginInvalidationAsync(range)|};
                    Change();
            """),
            Method("""
                    using InvalidationScope scope = await space.BeginInvalidationAsync(range);
                    Change();
            """),
            Verifier.Diagnostic());

    [Fact]
    public Task Fix_LocalDisposedLater_WrapsTheStatementsBetweenInAUsingBlock() =>
        Verifier.FixAsync<UseUsingCodeFix>(
            Method("""
                    InvalidationScope scope = {|#0:space.BeginInvalidation(range)|};
                    Change();
                    Change();
                    scope.Dispose();
                    Change();
            """),
            Method("""
                    using (InvalidationScope scope = space.BeginInvalidation(range))
                    {
                        Change();
                        Change();
                    }
                    Change();
            """),
            Verifier.Diagnostic());

    [Fact]
    public Task Fix_LocalNeverDisposed_AddsUsing() =>
        Verifier.FixAsync<UseUsingCodeFix>(
            Method("""
                    var scope = {|#0:space.BeginInvalidation(range)|};
                    Change();
            """),
            Method("""
                    using var scope = space.BeginInvalidation(range);
                    Change();
            """),
            Verifier.Diagnostic());
}
